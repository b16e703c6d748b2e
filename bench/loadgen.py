"""The load generator: one process, one event loop, many lean WebSocket clients.

Usage: python -m bench.loadgen WORKLOAD 'JSON PARAMS'   (the bench scripts call it; it prints one
JSON object as its last line). Workloads: streaming, burst, idle, handshake, resume.

Every workload reports its own CPU use (getrusage over the measured window) and the lag of its
own event loop (a 10 ms ticker), so that a saturated client shows up in the numbers instead of
being mistaken for a slow server.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import sys
import time
from collections import Counter
from typing import Any

from bench.wsclient import LeanWebSocket, connect

INDEX = b'"index":'
EMITTED = b'"emitted_at":'


def cpu_now() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


def dist(values: list[float], scale: float = 1000.0) -> dict[str, float]:
    """p50/p90/p99/max of seconds, in milliseconds."""
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50": pct(ordered, 50) * scale,
        "p90": pct(ordered, 90) * scale,
        "p99": pct(ordered, 99) * scale,
        "max": (ordered[-1] * scale) if ordered else float("nan"),
    }


def frame_type(payload: bytes) -> bytes:
    """The `type` of a server frame, read without parsing: frames start {"type":"...".

    Both Lectern and the baseline serialise with `type` first; anything else is parsed.
    """
    if payload.startswith(b'{"type":"'):
        end = payload.find(b'"', 9)
        return payload[9:end]
    return str(json.loads(payload).get("type", "")).encode()


def int_after(payload: bytes, key: bytes) -> int:
    start = payload.find(key) + len(key)
    end = start
    while payload[end] in b"-0123456789":
        end += 1
    return int(payload[start:end])


def float_after(payload: bytes, key: bytes) -> float | None:
    start = payload.find(key)
    if start < 0:
        return None
    start += len(key)
    end = start
    while payload[end] in b"-+.0123456789eE":
        end += 1
    return float(payload[start:end])


class LoopLag:
    """Measures this process's own event-loop lag: a 10 ms ticker's lateness."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.01)
            self.lags.append(time.monotonic() - before - 0.01)

    def __enter__(self) -> LoopLag:
        self.task = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()

    def p99_ms(self) -> float:
        return pct(self.lags, 99) * 1000


async def open_many(
    count: int,
    opener: Any,
    concurrency: int,
    deadline: float,
) -> tuple[list[Any], list[str]]:
    """Run `opener(i)` for i in range(count), at most `concurrency` at once, within a deadline."""
    semaphore = asyncio.Semaphore(concurrency)
    results: list[Any] = [None] * count
    errors: list[str] = []

    async def one(i: int) -> None:
        async with semaphore:
            if time.monotonic() > deadline:
                errors.append("deadline")
                return
            try:
                results[i] = await opener(i)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}"[:200])

    await asyncio.gather(*(one(i) for i in range(count)))
    return [r for r in results if r is not None], errors


async def close_all(sockets: list[LeanWebSocket], concurrency: int = 500) -> None:
    semaphore = asyncio.Semaphore(concurrency)

    async def one(ws: LeanWebSocket) -> None:
        async with semaphore:
            await ws.close(timeout=2)

    await asyncio.gather(*(one(ws) for ws in sockets), return_exceptions=True)


# --- streaming: N sessions, one paced generation each ------------------------------------------


class StreamSession:
    """One connection that runs one generation and timestamps every frame on arrival."""

    def __init__(self, message: bytes) -> None:
        loop = asyncio.get_running_loop()
        self.message = message
        self.ws: LeanWebSocket | None = None
        self.authed: asyncio.Future[None] = loop.create_future()
        self.done: asyncio.Future[str] = loop.create_future()
        self.sent_at = 0.0
        self.started_at = 0.0
        self.times: list[float] = []
        self.emitted: list[float] = []
        self.out_of_order = 0
        self.extra: Counter[str] = Counter()

    def on_message(self, payload: bytes, now: float, compressed: bool) -> None:
        kind = frame_type(payload)
        if kind == b"streaming":
            if int_after(payload, INDEX) != len(self.times):
                self.out_of_order += 1
            self.times.append(now)
            emitted = float_after(payload, EMITTED)
            if emitted is not None:
                self.emitted.append(emitted)
        elif kind == b"started":
            self.started_at = now
        elif kind == b"auth_success":
            if not self.authed.done():
                self.authed.set_result(None)
        elif kind in (b"complete", b"error", b"cancelled", b"auth_error"):
            if kind != b"complete":
                self.extra[payload[:200].decode(errors="replace")] += 1
            if not self.done.done():
                self.done.set_result(kind.decode())
            if not self.authed.done():
                self.authed.set_exception(RuntimeError(payload[:200].decode(errors="replace")))

    def start(self) -> None:
        assert self.ws is not None
        self.sent_at = time.monotonic()
        self.ws.send_text(self.message)


def course_message(content: str) -> bytes:
    return json.dumps(
        {
            "type": "message",
            "content": content,
            "conversation_id": None,
            "context": {"level": "beginner"},
        },
        separators=(",", ":"),
    ).encode()


def starts_per_second(sessions: list[StreamSession]) -> float:
    """Generations started per second, from the first `message` sent to the last `started`."""
    started = [s.started_at for s in sessions if s.started_at]
    if len(started) < 2:
        return float("nan")
    return len(started) / (max(started) - min(s.sent_at for s in sessions if s.sent_at))


async def streaming(p: dict[str, Any]) -> dict[str, Any]:
    host, port, path = p.get("host", "127.0.0.1"), p["port"], p["path"]
    n, interval, stagger = p["n"], p["interval"], p.get("stagger", 0.0)
    cookies: list[str] = p["cookies"]
    message = course_message(p["content"])
    sessions = [StreamSession(message) for _ in range(n)]
    deadline = time.monotonic() + p.get("connect_timeout", 120)

    async def opener(i: int) -> StreamSession:
        session = sessions[i]
        session.ws = await connect(
            host,
            port,
            path,
            headers={"Cookie": cookies[i % len(cookies)]},
            handler=session.on_message,
        )
        await asyncio.wait_for(session.authed, 30)
        return session

    connect_started = time.monotonic()
    opened, errors = await open_many(n, opener, p.get("connect_concurrency", 50), deadline)
    connect_seconds = time.monotonic() - connect_started
    loop = asyncio.get_running_loop()
    with LoopLag() as lag:
        await asyncio.sleep(0.2)
        cpu0, t0 = cpu_now(), time.monotonic()
        for i, session in enumerate(opened):
            loop.call_at(loop.time() + 0.05 + i * stagger / max(1, len(opened)), session.start)
        expected = p.get("expected_seconds", 5.0)
        timeout = stagger + expected * 4 + 30
        finished, _pending = await asyncio.wait([s.done for s in opened], timeout=timeout)
        t1, cpu1 = time.monotonic(), cpu_now()
    await close_all([s.ws for s in opened if s.ws is not None])

    added: list[float] = []  # per-chunk: inter-arrival gap beyond the interval (and chunk 0)
    true_added: list[float] = []  # baseline only: arrival_i - (emitted_{i-1} + interval)
    drift: list[float] = []  # cumulative: arrival_i - (arrival_0 + i * interval)
    stretch: list[float] = []
    to_started: list[float] = []
    emit_lags: list[float] = []
    intervals: list[tuple[float, float]] = []
    chunks = 0
    outcomes: Counter[str] = Counter()
    extras: Counter[str] = Counter()
    for s in opened:
        outcomes[s.done.result() if s.done.done() else "timeout"] += 1
        extras.update(s.extra)
        times, emitted = s.times, s.emitted
        chunks += len(times)
        if s.started_at:
            to_started.append(s.started_at - s.sent_at)
        if not times:
            continue
        base = times[0]
        intervals.append((base, times[-1]))
        nominal = (len(times) - 1) * interval
        stretch.append((times[-1] - base - nominal) / nominal if nominal else 0.0)
        if s.started_at:
            added.append(times[0] - s.started_at - interval)
        for i in range(1, len(times)):
            added.append(times[i] - times[i - 1] - interval)
            drift.append(times[i] - (base + i * interval))
        if len(emitted) == len(times):
            emit_lags += [t - e for t, e in zip(times, emitted, strict=True)]
            true_added += [times[i] - emitted[i - 1] - interval for i in range(1, len(times))]
    events = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    peak = current = 0
    for _t, step in events:
        current += step
        peak = max(peak, current)
    return {
        "sessions": n,
        "connected": len(opened),
        "connect_errors": Counter(errors).most_common(3),
        "connect_seconds": connect_seconds,
        "outcomes": dict(outcomes),
        "not_complete": extras.most_common(3),
        "finished": len(finished),
        "chunks": chunks,
        "chunks_per_session": chunks / max(1, len(opened)),
        "out_of_order": sum(s.out_of_order for s in opened),
        "peak_concurrent": peak,
        "added": dist(added),
        "true_added": dist(true_added),
        "drift": dist(drift),
        "stretch_pct": dist(stretch, 100.0),
        "message_to_started": dist(to_started),
        "starts_per_second": starts_per_second(opened),
        "emit_lag": dist(emit_lags),
        "window": [t0, t1],
        "client_cores": (cpu1 - cpu0) / (t1 - t0),
        "client_loop_lag_p99_ms": lag.p99_ms(),
    }


# --- burst: unpaced provider, back-to-back generations --------------------------------------


class BurstSession:
    def __init__(self, message: bytes, window: tuple[float, float]) -> None:
        self.message = message
        self.window = window
        self.ws: LeanWebSocket | None = None
        self.authed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.turn: asyncio.Future[str] | None = None
        self.in_window = 0
        self.total = 0
        self.generations = 0
        self.failures: Counter[str] = Counter()

    def on_message(self, payload: bytes, now: float, compressed: bool) -> None:
        kind = frame_type(payload)
        if kind == b"streaming":
            self.total += 1
            if self.window[0] <= now <= self.window[1]:
                self.in_window += 1
        elif kind == b"auth_success":
            if not self.authed.done():
                self.authed.set_result(None)
        elif kind in (b"complete", b"error", b"cancelled"):
            if kind == b"complete":
                self.generations += 1
            else:
                self.failures[payload[:160].decode(errors="replace")] += 1
            if self.turn is not None and not self.turn.done():
                self.turn.set_result(kind.decode())

    async def run(self, end: float) -> None:
        assert self.ws is not None
        while time.monotonic() < end:
            self.turn = asyncio.get_running_loop().create_future()
            self.ws.send_text(self.message)
            await asyncio.wait_for(self.turn, 60)


async def burst(p: dict[str, Any]) -> dict[str, Any]:
    host, port, path = p.get("host", "127.0.0.1"), p["port"], p["path"]
    n, duration, warmup = p["n"], p["duration"], p.get("warmup", 1.0)
    cookies: list[str] = p["cookies"]
    message = course_message(p["content"])
    start = time.monotonic() + 3600  # set once everyone is connected
    window = [start, start]
    sessions = [BurstSession(message, window) for _ in range(n)]  # type: ignore[arg-type]

    async def opener(i: int) -> BurstSession:
        s = sessions[i]
        s.ws = await connect(
            host, port, path, headers={"Cookie": cookies[i % len(cookies)]}, handler=s.on_message
        )
        await asyncio.wait_for(s.authed, 30)
        return s

    opened, errors = await open_many(n, opener, 50, time.monotonic() + 60)
    with LoopLag() as lag:
        t0 = time.monotonic()
        window[0], window[1] = t0 + warmup, t0 + warmup + duration
        for s in opened:
            s.window = (window[0], window[1])
        cpu_mark: dict[str, float] = {}

        async def mark() -> None:
            await asyncio.sleep(warmup)
            cpu_mark["start"] = cpu_now()
            await asyncio.sleep(duration)
            cpu_mark["end"] = cpu_now()

        results = await asyncio.gather(
            mark(), *(s.run(window[1]) for s in opened), return_exceptions=True
        )
    await close_all([s.ws for s in opened if s.ws is not None])
    failures: Counter[str] = Counter()
    for s in opened:
        failures.update(s.failures)
    chunks = sum(s.in_window for s in opened)
    return {
        "sessions": n,
        "connected": len(opened),
        "connect_errors": Counter(errors).most_common(3),
        "run_errors": [repr(r)[:200] for r in results if isinstance(r, BaseException)][:3],
        "failures": failures.most_common(3),
        "chunks_in_window": chunks,
        "chunks_per_second": chunks / duration,
        "generations": sum(s.generations for s in opened),
        "generations_per_second": sum(s.generations for s in opened) / (time.monotonic() - t0),
        "window": window,
        "client_cores": (cpu_mark.get("end", 0) - cpu_mark.get("start", 0)) / duration,
        "client_loop_lag_p99_ms": lag.p99_ms(),
    }


# --- idle: hold many authenticated connections until told to close ------------------------------


async def idle(p: dict[str, Any]) -> dict[str, Any]:
    host, port, path, n = p.get("host", "127.0.0.1"), p["port"], p["path"], p["n"]
    cookies: list[str] = p["cookies"]
    extensions: Counter[str] = Counter()
    compressed = Counter[bool]()

    async def opener(i: int) -> LeanWebSocket:
        ws = await connect(
            host,
            port,
            path,
            headers={"Cookie": cookies[i % len(cookies)]},
            offer_deflate=p.get("offer_deflate", False),
        )
        payload, _now, was_compressed = await ws.recv(timeout=60)
        compressed[was_compressed] += 1
        if not was_compressed and frame_type(payload) != b"auth_success":
            ws.abort()
            raise RuntimeError(payload[:120].decode(errors="replace"))
        extensions[ws.response_headers.get("sec-websocket-extensions", "(none)")] += 1
        return ws

    t0 = time.monotonic()
    sockets, errors = await open_many(
        n, opener, p.get("connect_concurrency", 100), t0 + p.get("connect_timeout", 300)
    )
    open_seconds = time.monotonic() - t0
    ready = {
        "event": "ready",
        "opened": len(sockets),
        "errors": Counter(errors).most_common(3),
        "open_seconds": open_seconds,
        "extensions": dict(extensions),
        "compressed_first_frames": compressed[True],
        "client_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(json.dumps(ready), flush=True)
    loop = asyncio.get_running_loop()
    line = await loop.run_in_executor(None, sys.stdin.readline)  # wait for "close"
    alive = sum(1 for ws in sockets if ws.is_open)
    t1 = time.monotonic()
    await close_all(sockets)
    return {
        **ready,
        "event": "closed",
        "alive_at_close": alive,
        "command": line.strip(),
        "close_seconds": time.monotonic() - t1,
    }


# --- handshake: connect, authenticate, close, as fast as possible ------------------------------


async def handshake(p: dict[str, Any]) -> dict[str, Any]:
    host, port, path = p.get("host", "127.0.0.1"), p["port"], p["path"]
    total, concurrency = p["total"], p["concurrency"]
    cookies: list[str] = p.get("cookies") or []
    tokens: list[str] = p.get("tokens") or []
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    counter = iter(range(total))

    async def one(i: int) -> None:
        started = time.monotonic()
        headers = {"Cookie": cookies[i % len(cookies)]} if cookies else {}
        ws = await connect(host, port, path, headers=headers)
        try:
            if tokens:
                ws.send_text(
                    json.dumps({"type": "auth", "token": tokens[i % len(tokens)]}).encode()
                )
            payload, now, _c = await ws.recv(timeout=30)
            if frame_type(payload) != b"auth_success":
                raise RuntimeError(payload[:120].decode(errors="replace"))
            latencies.append(now - started)
        finally:
            await ws.close(timeout=2)

    async def worker() -> None:
        for i in counter:
            try:
                await one(i)
            except Exception as exc:
                errors[f"{type(exc).__name__}: {exc}"[:160]] += 1

    with LoopLag() as lag:
        cpu0, t0 = cpu_now(), time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        t1, cpu1 = time.monotonic(), cpu_now()
    return {
        "total": total,
        "ok": len(latencies),
        "errors": errors.most_common(3),
        "per_second": len(latencies) / (t1 - t0),
        "latency": dist(latencies),
        "window": [t0, t1],
        "client_cores": (cpu1 - cpu0) / (t1 - t0),
        "client_loop_lag_p99_ms": lag.p99_ms(),
    }


# --- storm: every client reconnects at once, with the browser client's jittered backoff ------


async def storm(p: dict[str, Any]) -> dict[str, Any]:
    """`total` clients lose their socket at t0 and reconnect as lectern-client.js does: wait a
    random delay in [ceiling / 2, ceiling], ceiling = min(30 s, 500 ms x 2^attempt), open, sign
    in (cookie), and on any failure (refused, reset, no `auth_success` within `auth_timeout`)
    try again with the next attempt's delay. Reported: when 50%, 99% and all were signed in."""
    host, port, path = p.get("host", "127.0.0.1"), p["port"], p["path"]
    total, cookies = p["total"], p["cookies"]
    base, ceiling_max, auth_timeout = 0.5, 30.0, p.get("auth_timeout", 10.0)
    signed_in: list[float] = []
    attempts: Counter[int] = Counter()
    failures: Counter[str] = Counter()
    sockets: list[LeanWebSocket] = []
    t0 = time.monotonic()

    async def client(i: int) -> None:
        attempt = 0
        while time.monotonic() - t0 < p.get("give_up", 300):
            ceiling = min(ceiling_max, base * 2**attempt)
            await asyncio.sleep(ceiling / 2 + random.random() * ceiling / 2)
            attempt += 1
            try:
                ws = await connect(
                    host, port, path, headers={"Cookie": cookies[i % len(cookies)]},
                    timeout=auth_timeout,
                )  # fmt: skip
                payload, now, _c = await ws.recv(timeout=auth_timeout)
                if frame_type(payload) != b"auth_success":
                    ws.abort()
                    raise RuntimeError(payload[:60].decode(errors="replace"))
            except Exception as exc:
                failures[type(exc).__name__] += 1
                continue
            signed_in.append(now - t0)
            attempts[attempt] += 1
            sockets.append(ws)
            return

    with LoopLag() as lag:
        cpu0 = cpu_now()
        await asyncio.gather(*(client(i) for i in range(total)))
        t1, cpu1 = time.monotonic(), cpu_now()
    await close_all(sockets)
    done = sorted(signed_in)

    def at(fraction: float) -> float:
        return done[max(0, int(fraction * total) - 1)] if len(done) >= fraction * total else -1

    return {
        "total": total,
        "ok": len(done),
        "t50": at(0.5),
        "t99": at(0.99),
        "t100": at(1.0),
        "attempts": dict(sorted(attempts.items())),
        "failures": dict(failures.most_common(4)),
        "client_cores": (cpu1 - cpu0) / (t1 - t0),
        "client_loop_lag_p99_ms": lag.p99_ms(),
        "window": [t0, t1],
    }


# --- resume: a generation on process A, resumed on process B --------------------------------------


async def resume(p: dict[str, Any]) -> dict[str, Any]:
    host, path = p.get("host", "127.0.0.1"), p["path"]
    port_a, port_b = p["port_a"], p["port_b"]
    headers = {"Cookie": p["cookie"]}
    trials, warm_chunks, after_index = (
        p["trials"],
        p.get("warm_chunks", 5),
        p.get("after_index", -1),
    )
    message = course_message(p["content"])
    a = await connect(host, port_a, path, headers=headers)
    assert frame_type((await a.recv(30))[0]) == b"auth_success"
    first_frame: list[float] = []
    caught_up: list[float] = []
    reconnect: list[float] = []
    problems: Counter[str] = Counter()

    async def next_of(ws: LeanWebSocket, kinds: tuple[bytes, ...]) -> dict[str, Any]:
        while True:
            payload, now, _c = await ws.recv(timeout=30)
            if frame_type(payload) in kinds:
                frame = json.loads(payload)
                frame["_t"] = now
                return frame

    async def trial() -> None:
        a.send_text(message)
        started = await next_of(a, (b"started", b"error"))
        if started["type"] != "started":
            raise RuntimeError(str(started)[:160])
        cid, mid = started["conversation_id"], started["message_id"]
        last_a = -1
        while last_a < warm_chunks:
            frame = await next_of(a, (b"streaming",))
            if frame["message_id"] == mid:
                last_a = frame["index"]
        t_connect = time.monotonic()
        b = await connect(host, port_b, path, headers=headers)
        try:
            assert frame_type((await b.recv(30))[0]) == b"auth_success"
            reconnect.append(time.monotonic() - t_connect)
            t0 = time.monotonic()
            b.send_text(
                json.dumps({"type": "resume", "conversation_id": cid, "after_index": after_index})
            )
            frame = await next_of(b, (b"streaming", b"complete", b"error", b"cancelled"))
            first_frame.append(frame["_t"] - t0)
            if frame["type"] != "streaming" or frame["index"] != after_index + 1:
                problems[f"first frame {frame['type']} {frame.get('index')}"] += 1
            while frame["type"] == "streaming" and frame["index"] < last_a:
                frame = await next_of(b, (b"streaming", b"complete", b"error", b"cancelled"))
            caught_up.append(frame["_t"] - t0)
        finally:
            await b.close(timeout=2)
        a.send_text(json.dumps({"type": "cancel", "conversation_id": cid}))
        while True:  # drain A until this generation has ended
            frame = await next_of(a, (b"cancelled", b"complete", b"error", b"streaming"))
            if frame["type"] != "streaming" and frame.get("conversation_id") == cid:
                break

    cpu0, t0 = cpu_now(), time.monotonic()
    for _ in range(trials):
        try:
            await asyncio.wait_for(trial(), 60)
        except Exception as exc:
            problems[f"{type(exc).__name__}: {exc}"[:160]] += 1
    t1, cpu1 = time.monotonic(), cpu_now()
    await a.close()
    return {
        "trials": trials,
        "ok": len(first_frame),
        "problems": problems.most_common(3),
        "first_frame": dist(first_frame),
        "caught_up": dist(caught_up),
        "reconnect": dist(reconnect),
        "client_cores": (cpu1 - cpu0) / (t1 - t0),
    }


WORKLOADS = {
    "streaming": streaming,
    "burst": burst,
    "idle": idle,
    "handshake": handshake,
    "resume": resume,
    "storm": storm,
}


def main() -> None:
    from bench.common import raise_nofile

    raise_nofile()
    workload, params = sys.argv[1], json.loads(sys.argv[2])
    result = asyncio.run(WORKLOADS[workload](params))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
