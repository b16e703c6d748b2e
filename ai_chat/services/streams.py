"""The frame log of each generation: replay for `resume`, and live fan-out to followers.

A generation publishes its `streaming` frames and its one final frame here. Followers in the
same process are fed straight from memory (no serialisation, no round trip). With `REDIS_URL`
set, every frame is also mirrored to Redis (a list per message for replay, a pub/sub channel for
live frames) by one background writer that batches under load, so that a client reconnected
to another process can `resume`. Logs expire after `STREAM_LOG_TTL_SECONDS`.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from django.conf import settings

from ai_chat.server_frames import StreamingFrame, server_frame_adapter
from sockets.server_frames import ServerFrame

logger = logging.getLogger(__name__)

FINAL_TYPES = frozenset({"complete", "cancelled", "error"})
# A follower of a silent stream on another process asks the database this often whether it
# ended (its process died and the sweep marked it `interrupted`).
POLL_SECONDS = 3.0
Frame = ServerFrame


class _LocalStream:
    __slots__ = ("ended", "frames", "listeners")

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.listeners: set[asyncio.Queue[Frame]] = set()
        self.ended = False


def _after(frames: list[Frame], after_index: int) -> list[Frame]:
    return [f for f in frames if not isinstance(f, StreamingFrame) or f.index > after_index]


def is_final(frame: Frame) -> bool:
    return frame.frame_type in FINAL_TYPES


# An ended generation's frames stay in this process's memory this long (a socket that comes
# back at once replays them exactly); after that a `resume` reads the Redis mirror (kept for
# STREAM_LOG_TTL_SECONDS) or rebuilds the message from the database. Kept for the whole TTL,
# they held about 0.3 MB per generation for an hour: a soak's RSS grew 65 MB a minute at 200
# generations a minute (bench/README.md, 2026-12-01).
ENDED_LOCAL_SECONDS = 60.0


class StreamHub:
    """Process-wide registry of generation streams."""

    def __init__(self, *, ttl: float, mirror: "RedisMirror | None" = None) -> None:
        self.ttl = ttl
        self.mirror = mirror
        self._streams: dict[str, _LocalStream] = {}

    def open(self, message_id: str) -> None:
        """Start the log of a generation that runs in this process."""
        self._streams[message_id] = _LocalStream()

    def is_local(self, message_id: str) -> bool:
        return message_id in self._streams

    async def forget(self, message_id: str) -> None:
        """Drop a message's frame log, here and in the mirror, as if it had expired: a later
        `follow` rebuilds the message from the database."""
        self._streams.pop(message_id, None)
        if self.mirror is not None:
            await self.mirror.drop(message_id)

    async def publish(self, message_id: str, frame: Frame) -> None:
        stream = self._streams[message_id]
        stream.frames.append(frame)
        final = is_final(frame)
        for queue in stream.listeners:
            queue.put_nowait(frame)
        if final:
            stream.ended = True
            stream.listeners.clear()
            keep = min(self.ttl, ENDED_LOCAL_SECONDS)
            asyncio.get_running_loop().call_later(keep, self._streams.pop, message_id, None)
        if self.mirror is not None:
            self.mirror.append(message_id, frame)

    async def follow(
        self,
        message_id: str,
        *,
        after_index: int = -1,
        fallback: Callable[[], Any] | None = None,
    ) -> AsyncIterator[Frame]:
        """Frames of a message after `after_index`, then live ones, ending with the final frame.

        `fallback` (async, returning a list of frames) rebuilds an ended message from the
        database, and returns nothing for one still streaming; it is used when no log is found.
        """
        stream = self._streams.get(message_id)
        if stream is not None:
            async for frame in self._follow_local(stream, after_index):
                yield frame
            return
        # Running elsewhere, or ended: the database says which (an ended message rebuilds).
        stored = list(await fallback()) if fallback is not None else []
        if self.mirror is not None:
            ended = fallback if not stored else None
            async for frame in self.mirror.follow(
                message_id, after_index, wait=not stored, ended=ended
            ):
                yield frame
                if is_final(frame):
                    return
                if isinstance(frame, StreamingFrame):
                    after_index = frame.index
            if not stored and fallback is not None:  # it went silent: did its process die?
                stored = list(await fallback())
        for frame in _after(stored, after_index):
            yield frame

    async def _follow_local(self, stream: _LocalStream, after_index: int) -> AsyncIterator[Frame]:
        backlog = _after(stream.frames, after_index)
        if stream.ended:
            for frame in backlog:
                yield frame
            return
        queue: asyncio.Queue[Frame] = asyncio.Queue()
        stream.listeners.add(queue)  # registered in the same step as the snapshot: no gap
        try:
            for frame in backlog:
                yield frame
            while True:
                frame = await queue.get()
                yield frame
                if is_final(frame):
                    return
        finally:
            stream.listeners.discard(queue)


# KEYS[i] is the log of the frame ARGV[i + 1]; ARGV[1] the logs' time to live in seconds.
MIRROR_SCRIPT = """
for i, key in ipairs(KEYS) do
  redis.call('RPUSH', key, ARGV[i + 1])
  redis.call('EXPIRE', key, ARGV[1])
  redis.call('PUBLISH', key, ARGV[i + 1])
end
return #KEYS
"""
# How long the writer waits after the first frame of a write for others to join it: what a
# follower on another process may lag behind one in this process (local ones read memory).
MIRROR_FLUSH_SECONDS = 0.005
# Frames per script call: Redis runs a script to its end before anything else, so a call is
# kept short (about a millisecond) however far behind the writer is.
WRITE_BATCH = 500


class RedisMirror:
    """Copies frames to Redis for other processes; follows streams that run elsewhere."""

    def __init__(self, url: str, *, ttl: int, prefix: str = "lectern:stream:") -> None:
        import redis.asyncio as redis

        self.redis = redis.Redis.from_url(url)
        self.ttl = ttl
        self.prefix = prefix
        self.silence_timeout = float(getattr(settings, "GEMINI_STALL_SECONDS", 30)) + 15
        self._script = self.redis.register_script(MIRROR_SCRIPT)
        self._pending: list[tuple[str, str]] = []
        self._wakeup = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        # Held while a batch is taken and written: `drop` waits for a batch in flight.
        self._writing = asyncio.Lock()

    def _key(self, message_id: str) -> str:
        return f"{self.prefix}{message_id}"

    def append(self, message_id: str, frame: Frame) -> None:
        self._pending.append((message_id, frame.wire()))
        self._wakeup.set()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_forever())

    async def _write_forever(self) -> None:
        while True:
            await self._wakeup.wait()
            # Let the frames of the next few milliseconds join this write: at 20 ms between
            # chunks, a write per wake-up carried about one frame per stream.
            await asyncio.sleep(MIRROR_FLUSH_SECONDS)
            async with self._writing:
                self._wakeup.clear()
                batch, self._pending = self._pending, []
                await self._write_retrying(batch)

    async def _write_retrying(self, batch: list[tuple[str, str]]) -> None:
        for attempt in range(5):
            try:
                await self._write(batch)
                return
            except Exception as exc:  # Redis restarting: keep the frames and retry
                logger.warning("stream mirror write failed (%s); retrying", type(exc).__name__)
                await asyncio.sleep(0.2 * (attempt + 1))
        logger.error("stream mirror dropped %d frames after retries", len(batch))

    async def drop(self, message_id: str) -> None:
        """Delete a message's log, frames not yet written included: a write still pending or
        in flight would otherwise bring the log back after the delete."""
        self._pending = [entry for entry in self._pending if entry[0] != message_id]
        async with self._writing:  # a batch taken before the line above is written first
            await self.redis.delete(self._key(message_id))

    async def _write(self, batch: list[tuple[str, str]]) -> None:
        """Log, expire and publish each frame, in order: one script call per WRITE_BATCH frames.

        Under load this is one command per generation per chunk interval, for every stream of
        the process; sent as three commands a frame (RPUSH, EXPIRE, PUBLISH) through redis-py's
        pipeline, packing and parsing them took a third of a process's CPU at 200 streams
        (bench/README.md, issue 12). In a script Redis runs them; the client packs one."""
        for start in range(0, len(batch), WRITE_BATCH):
            part = batch[start : start + WRITE_BATCH]
            await self._script(
                keys=[self._key(message_id) for message_id, _ in part],
                args=[self.ttl, *(payload for _, payload in part)],
            )

    async def follow(
        self,
        message_id: str,
        after_index: int,
        *,
        wait: bool,
        ended: Callable[[], Any] | None = None,
    ) -> AsyncIterator[Frame]:
        """The logged frames after `after_index`, then live ones until the final frame.

        With `wait`, an empty log is a generation that has not published yet: follow it live.
        Without, an empty log means there is nothing here (expired, or never mirrored).
        `ended` (async: the stored end of the message, or nothing while it runs) is asked after
        every POLL_SECONDS of silence, so a follower learns as soon as the sweep has marked a
        dead process's message `interrupted`. Redis errors are raised to the caller.
        """
        key = self._key(message_id)
        pubsub = self.redis.pubsub()
        try:
            await pubsub.subscribe(key)  # before reading the log, so nothing falls between
            logged = [_parse(raw) for raw in await self.redis.lrange(key, 0, -1)]
            if not logged and not wait:
                return
            last_index = after_index
            for frame in _after(logged, after_index):
                yield frame
                if is_final(frame):
                    return
                if isinstance(frame, StreamingFrame):
                    last_index = max(last_index, frame.index)
            loop = asyncio.get_running_loop()
            silent_until = loop.time() + self.silence_timeout
            poll_at = loop.time() + POLL_SECONDS
            while True:
                # None also comes back for the subscribe confirmation, not only on a timeout.
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is None:
                    if ended is not None and loop.time() >= poll_at:
                        poll_at = loop.time() + POLL_SECONDS
                        stored = list(await ended())
                        if stored:  # it ended without a final frame here: its process died
                            for frame in _after(stored, last_index):
                                yield frame
                            return
                    if loop.time() > silent_until:  # its process may have died: caller checks
                        return
                    continue
                silent_until = loop.time() + self.silence_timeout
                poll_at = loop.time() + POLL_SECONDS
                frame = _parse(message["data"])
                if isinstance(frame, StreamingFrame) and frame.index <= last_index:
                    continue
                yield frame
                if is_final(frame):
                    return
                if isinstance(frame, StreamingFrame):
                    last_index = frame.index
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def aclose(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
        await self.redis.aclose()


def _parse(raw: bytes | str) -> Frame:
    """A frame mirrored by another process, back into its model."""
    frame: Frame = server_frame_adapter.validate_json(raw)
    return frame
