"""The bare baseline: a `websockets` (asyncio) server doing the same wire work as Lectern.

It speaks the slice of PROTOCOL.md the benchmarks use, with no Django, no Channels, no database:
a handshake carrying a session cookie gets `auth_success` at once; otherwise the first frame must
be `auth` with a token (accepted unchecked). A `message` starts a task (not owned by the socket,
like Lectern's runner) that sends `conversation`, `started`, then the same course placeholder
text in the same chunks, paced the same way (a sleep of `--delay-ms` before each chunk), with the
same `partial` parses at the same points, and a `complete` frame with the parsed result. Each
`streaming` frame also carries `emitted_at` (time.monotonic() just before the send), so a client
on this machine can measure the true added latency and check the arrival-based method.

With `--upstream URL` (the benchmarks' provider mode) the text is not rendered here but read
from a Gemini-protocol server (bench/upstream.py, which paces the same chunks) with the floor
reader of bench/lean_sse.py (asyncio streams and `json`): one `streaming` frame per event.

Usage: python -m bench.baseline [--chunk-size 10] [--delay-ms 20] [--compression deflate|none]
       [--upstream URL] --port PORT
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
import uuid
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.lean_sse import FloorClient, gemini_text

AUTH_SUCCESS = json.dumps(
    {"type": "auth_success", "user": {"id": 1, "email": "a@example.com", "display_name": "A"}},
    separators=(",", ":"),
)


def _dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def course_request(content: str) -> Any:
    """The GenerationRequest Lectern builds for a course about `content`."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from ai_chat.agent.base import GenerationRequest
    from ai_chat.kinds import get_kind
    from ai_chat.kinds.base import Target

    kind = get_kind("course")
    context = kind.parse_context({"level": "beginner"})
    return GenerationRequest(
        kind="course",
        instructions=kind.instructions,
        prompt=kind.build_prompt(content=content, context=context, target=Target()),
        history=(),
        result_schema=kind.result_schema(),
        context=context.model_dump(mode="json"),
        max_output_tokens=8192,
    )


def course_text(content: str) -> str:
    """The offline provider's course text for `content`, rendered by Lectern's own code."""
    request = course_request(content)
    from ai_chat.agent.offline import OfflineAgent

    # The provider's "no model is involved" warning is for operators, not for benchmark output.
    logging.getLogger("ai_chat.agent.offline").setLevel(logging.ERROR)
    return OfflineAgent(chunk_size=1, chunk_delay=0).render(request)


class Baseline:
    def __init__(self, *, chunk_size: int, delay: float, upstream: str | None = None) -> None:
        course_text("Java for kids")  # sets Django up; renders before listening
        from ai_chat.generation.attempt import PartialParser

        self.parser_class = PartialParser
        self.chunk_size = chunk_size
        self.delay = delay
        self.texts: dict[str, str] = {}
        self.upstream: FloorClient | None = None
        if upstream:
            from ai_chat.agent.gemini_stream import request_body

            self.upstream = FloorClient(upstream, {"x-goog-api-key": "bench-key"})
            # The request Lectern sends (built once: its cost is not the baseline's to pay).
            self.body = request_body(course_request("Java for kids"), 8192)

    async def chunks(self, content: str) -> AsyncGenerator[str]:
        """The answer's chunks: read from the upstream, or cut from the text and paced here."""
        if self.upstream is not None:
            path = "/v1beta/models/gemini-bench:streamGenerateContent?alt=sse"
            async for payload in self.upstream.events(path, self.body):
                if text := gemini_text(payload):
                    yield text
            return
        text = self.text(content)
        for start in range(0, len(text), self.chunk_size):
            if self.delay:
                await asyncio.sleep(self.delay)
            yield text[start : start + self.chunk_size]

    def text(self, content: str) -> str:
        if content not in self.texts:
            self.texts[content] = course_text(content)
        return self.texts[content]

    async def handler(self, ws: ServerConnection) -> None:
        tasks: dict[str, asyncio.Task[None]] = {}
        authed = "sessionid=" in (ws.request.headers.get("Cookie") or "") if ws.request else False
        try:
            if authed:
                await ws.send(AUTH_SUCCESS)
            async for raw in ws:
                frame = json.loads(raw)
                kind = frame.get("type")
                if not authed:
                    if kind == "auth" and frame.get("token"):
                        authed = True
                        await ws.send(AUTH_SUCCESS)
                        continue
                    await ws.send(_dumps({"type": "auth_error", "code": "auth_required"}))
                    await ws.close(4401)
                    return
                if kind == "message":
                    cid = str(uuid.uuid4())
                    task = asyncio.get_running_loop().create_task(
                        self.stream(ws, cid, str(frame.get("content", "")))
                    )
                    tasks[cid] = task
                    task.add_done_callback(lambda _t, cid=cid: tasks.pop(cid, None))
                elif kind == "cancel" and frame.get("conversation_id") in tasks:
                    tasks[frame["conversation_id"]].cancel()
                elif kind == "ping":
                    await ws.send('{"type":"pong"}')
                else:
                    await ws.send(_dumps({"type": "error", "code": "unknown_type"}))
        except ConnectionClosed:
            pass

    async def stream(self, ws: ServerConnection, cid: str, content: str) -> None:
        mid = str(uuid.uuid4())
        ids = {"conversation_id": cid, "message_id": mid}
        try:
            await ws.send(
                _dumps(
                    {
                        "type": "conversation",
                        "conversation_id": cid,
                        "kind": "course",
                        "created": True,
                        "title": content[:80],
                    }
                )
            )
            await ws.send(_dumps({"type": "started", **ids}))
            parser = self.parser_class()
            streamed: list[str] = []
            chunks = self.chunks(content)
            index = -1
            try:
                async for chunk in chunks:
                    index += 1
                    streamed.append(chunk)
                    frame: dict[str, Any] = {"type": "streaming", **ids, "index": index}
                    frame["chunk"] = chunk
                    partial = parser.maybe_parse("".join(streamed))
                    if partial is not None:
                        frame["partial"] = partial
                    frame["emitted_at"] = time.monotonic()
                    await ws.send(_dumps(frame))
            except asyncio.CancelledError:
                await ws.send(_dumps({"type": "cancelled", **ids}))
                return
            finally:
                await chunks.aclose()
            text = "".join(streamed)
            usage = {"input_tokens": 100, "output_tokens": len(text) // 4}
            data = json.loads(text)
            await ws.send(
                _dumps(
                    {
                        "type": "complete",
                        **ids,
                        "data": data,
                        "usage": usage,
                        "model": "offline-placeholder",
                    }
                )
            )
        except ConnectionClosed:
            pass


async def main_async(args: argparse.Namespace) -> None:
    baseline = Baseline(
        chunk_size=args.chunk_size, delay=args.delay_ms / 1000, upstream=args.upstream
    )
    compression = None if args.compression == "none" else "deflate"
    async with serve(
        baseline.handler,
        "127.0.0.1",
        args.port,
        compression=compression,
        max_size=1024 * 1024,
        backlog=2048,
    ) as server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunk-size", type=int, default=10)
    parser.add_argument("--delay-ms", type=int, default=20)
    parser.add_argument("--compression", choices=["deflate", "none"], default="deflate")
    parser.add_argument("--upstream", help="read the text from this Gemini-protocol server")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    try:
        asyncio.run(main_async(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
