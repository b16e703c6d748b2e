"""The cost of the provider path: CPU per chunk and per request through each agent (their lean
readers by default; `GEMINI_READER`/`AI_COMPAT_READER=sdk` are the SDKs' own), what the
fallback chain adds, and how long a hand-over takes when the first provider is down.
bench/provider_cpu.py compares the readers with a bare reader, the server in its own process.

The fake servers (tests/fakes) run in threads of this process; CPU is measured with
`time.thread_time()` on the event loop's thread only, so their work is not counted (but they
share the GIL, so wall times are upper bounds). Per chunk is the request's CPU divided by its
chunks, so it includes the per-request cost spread over them.

    .venv/bin/python -m bench.providers [--requests 30] [--chunks 200]
"""

import argparse
import asyncio
import logging
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from ai_chat.agent.base import GenerationRequest  # noqa: E402
from ai_chat.agent.breaker import CircuitBreaker  # noqa: E402
from ai_chat.agent.fallback import FallbackAgent, Link  # noqa: E402
from tests.fakes import gemini_server, openai_server  # noqa: E402

REQUEST = GenerationRequest(kind="chat", instructions="Be brief.", prompt="Hello?")


def link(agent: Any) -> Link:
    return Link(agent, CircuitBreaker(threshold=10**9, cooldown=30))


async def measure(agent: Any, push: Callable[[], None], requests: int) -> dict[str, float]:
    """Stream `requests` generations one after the other; CPU and wall time of each."""
    cpu: list[float] = []
    wall: list[float] = []
    chunks = 0
    for _ in range(requests):
        push()
        cpu0, wall0 = time.thread_time(), time.perf_counter()
        async for _event in agent.stream(REQUEST):
            chunks += 1
        cpu.append(time.thread_time() - cpu0)
        wall.append(time.perf_counter() - wall0)
    await agent.aclose()
    return {
        "cpu_per_request_ms": statistics.median(cpu) * 1000,
        "cpu_per_chunk_us": sum(cpu) / max(1, chunks - requests) * 1e6,
        "wall_p50_ms": statistics.median(wall) * 1000,
    }


async def run(requests: int, chunks: int) -> list[tuple[str, dict[str, float]]]:
    gemini = gemini_server.FakeGeminiServer().start()
    compat = openai_server.FakeOpenAIServer().start()
    text = ["word " for _ in range(chunks)]
    try:
        g_reply = lambda: gemini.push(gemini_server.Reply(chunks=text))  # noqa: E731
        o_reply = lambda: compat.push(openai_server.Reply(chunks=text))  # noqa: E731

        def down_then_openai() -> None:
            gemini.push(gemini_server.Reply.http_error(503))
            o_reply()

        rows = [
            ("gemini (GeminiAgent)", await measure(gemini.make_agent(), g_reply, requests)),
            (
                "openai-compatible (OpenAICompatibleAgent)",
                await measure(compat.make_agent(), o_reply, requests),
            ),
            (
                "chain of one: openai-compatible",
                await measure(FallbackAgent([link(compat.make_agent())]), o_reply, requests),
            ),
            (
                "chain: gemini 503 -> openai-compatible",
                await measure(
                    FallbackAgent(
                        [link(gemini.make_agent(max_retries=0)), link(compat.make_agent())]
                    ),
                    down_then_openai,
                    requests,
                ),
            ),
        ]
    finally:
        gemini.stop()
        compat.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--chunks", type=int, default=200)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the 503s and attempts are expected: not worth a line each
    rows = asyncio.run(run(args.requests, args.chunks))
    print(f"{args.requests} requests of {args.chunks} chunks each, one at a time\n")
    print("| path | CPU per request (p50) | CPU per chunk | wall per request (p50) |")
    print("| --- | --- | --- | --- |")
    for name, r in rows:
        print(
            f"| {name} | {r['cpu_per_request_ms']:.1f} ms | {r['cpu_per_chunk_us']:.0f} us "
            f"| {r['wall_p50_ms']:.1f} ms |"
        )


if __name__ == "__main__":
    main()
