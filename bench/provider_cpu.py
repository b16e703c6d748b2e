"""CPU of Lectern's provider code per streamed chunk and per request, against the floor.

The fake model server runs in its own process (`bench.upstream`), answering every request
with the same structured (JSON) answer in --chunks chunks, --pause-ms apart. This process runs,
one after the other on one event loop, C streams at once (--concurrency, default 10 and 50)
through each reader, and takes its own CPU time (`time.process_time`: the server's side only)
for --requests requests:

- `floor`: asyncio streams, HTTP/1.1 written and read by hand, `json.loads` per `data:` event
  (bench/lean_sse.py): what reading the stream costs at least;
- `lectern`: the provider as the server runs it (`GeminiAgent`, whose default reader is
  gemini_stream.py; `OpenAICompatibleAgent`), from the `GenerationRequest` to the `Completion`;
- `lectern, GEMINI_READER=sdk` / `AI_COMPAT_READER=sdk`: the same agents reading through the
  SDKs' own streams and types (what Lectern did before).

Per chunk is a run's CPU divided by its chunks, so it includes the per-request cost spread
over them (the issue's convention). Each reader runs --rounds times, interleaved, and its best
round counts (other programs on the machine only ever add time). The ratio is to the floor of
the same run; the target is at most 2.

    .venv/bin/python -m bench.provider_cpu [--requests 200] [--concurrency 10,50] [--chunks 30]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from ai_chat.agent.base import Completion, GenerationRequest  # noqa: E402
from ai_chat.agent.gemini import GeminiAgent  # noqa: E402
from ai_chat.agent.gemini_stream import request_body  # noqa: E402
from ai_chat.agent.openai_compat import OpenAICompatibleAgent  # noqa: E402
from ai_chat.kinds import get_kind  # noqa: E402
from bench.common import print_table  # noqa: E402
from bench.lean_sse import FloorClient, gemini_text, openai_text  # noqa: E402
from bench.upstream import Upstream  # noqa: E402

MODEL = "gemini-bench"


def course_request() -> GenerationRequest:
    kind = get_kind("course")
    return GenerationRequest(
        kind="course",
        instructions="Write a course outline for the topic the user names.",
        prompt="Java for kids",
        result_schema=kind.result_schema(),
    )


Reader = Callable[[], Awaitable[int]]  # one request; returns the chunks it read


def agent_reader(agent: Any, request: GenerationRequest) -> Reader:
    async def one() -> int:
        chunks = 0
        async for event in agent.stream(request):
            chunks += not isinstance(event, Completion)
        return chunks

    return one


def floor_reader(client: FloorClient, path: str, body: dict[str, Any], text: Any) -> Reader:
    async def one() -> int:
        chunks, pieces = 0, []
        async for payload in client.events(path, body):
            if piece := text(payload):
                pieces.append(piece)
                chunks += 1
        "".join(pieces)
        return chunks

    return one


async def measure(read: Reader, requests: int, concurrency: int) -> dict[str, float]:
    """`requests` requests, `concurrency` at a time; this process's CPU for them."""
    left = [requests]
    chunks = [0]

    async def worker() -> None:
        while left[0] > 0:
            left[0] -= 1
            count = await read()
            chunks[0] += count

    await asyncio.gather(*(read() for _ in range(concurrency)))  # warm-up: connections, imports
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {
        "cpu_per_request_ms": cpu / requests * 1000,
        "cpu_per_chunk_us": cpu / max(1, chunks[0]) * 1e6,
        "chunks_per_request": chunks[0] / requests,
        "wall_s": wall,
    }


async def run_provider(provider: str, url: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    request = course_request()
    readers: dict[str, Reader] = {}
    closers: list[Any] = []
    if provider == "gemini":
        floor = FloorClient(url, {"x-goog-api-key": "bench-key"})
        path = f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse"
        readers["floor (asyncio + json)"] = floor_reader(
            floor, path, request_body(request, 8192), gemini_text
        )
        for reader in ("lean", "sdk"):
            agent = GeminiAgent(
                api_key="bench-key", model=MODEL, base_url=url, max_retries=0, reader=reader
            )
            name = "lectern (GeminiAgent)" if reader == "lean" else "lectern, GEMINI_READER=sdk"
            readers[name] = agent_reader(agent, request)
            closers.append(agent)
    else:
        floor = FloorClient(url)
        agent = OpenAICompatibleAgent(
            name="bench", base_url=url, api_key="bench-key", model="bench", structured="json_schema"
        )
        body = agent._arguments(request)
        readers["floor (asyncio + json)"] = floor_reader(
            floor, "/chat/completions", body, openai_text
        )
        readers["lectern (OpenAICompatibleAgent)"] = agent_reader(agent, request)
        sdk_agent = OpenAICompatibleAgent(
            name="bench",
            base_url=url,
            api_key="bench-key",
            model="bench",
            structured="json_schema",
            reader="sdk",
        )
        readers["lectern, AI_COMPAT_READER=sdk"] = agent_reader(sdk_agent, request)
        closers += [agent, sdk_agent]
    rows: list[dict[str, Any]] = []
    try:
        for concurrency in args.concurrency:
            best: dict[str, dict[str, float]] = {}
            for _ in range(args.rounds):
                for name, read in readers.items():
                    result = await measure(read, args.requests, concurrency)
                    if (
                        name not in best
                        or result["cpu_per_request_ms"] < best[name]["cpu_per_request_ms"]
                    ):
                        best[name] = result
            base = best["floor (asyncio + json)"]
            for name, result in best.items():
                ratio = result["cpu_per_request_ms"] / base["cpu_per_request_ms"]
                row = {"provider": provider, "reader": name, "concurrency": concurrency}
                rows.append({**row, **result, "ratio": ratio})
                print(
                    f"  {provider} C={concurrency} {name}: "
                    f"{result['cpu_per_request_ms']:.2f} ms/request, "
                    f"{result['cpu_per_chunk_us']:.1f} us/chunk, x{ratio:.2f}",
                    flush=True,
                )
    finally:
        await floor.aclose()
        for agent in closers:
            await agent.aclose()
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--providers", default="gemini,openai")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", default="10,50")
    parser.add_argument("--chunks", type=int, default=30)
    parser.add_argument("--pause-ms", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    logging.disable(logging.WARNING)
    rows: list[dict[str, Any]] = []
    for provider in args.providers.split(","):
        with Upstream(
            provider, "--chunks", str(args.chunks), "--pause-ms", str(args.pause_ms)
        ) as upstream:
            rows += asyncio.run(run_provider(provider, upstream.url, args))
    table = print_table(
        f"Provider CPU, {args.chunks}-chunk structured answers {args.pause_ms:g} ms apart, "
        f"{args.requests} requests per reader and step (best of {args.rounds} rounds)",
        ["provider", "reader", "streams at once", "CPU per request (ms)", "CPU per chunk (µs)",
         "ratio to floor"],
        [[r["provider"], r["reader"], r["concurrency"], r["cpu_per_request_ms"],
          r["cpu_per_chunk_us"], r["ratio"]] for r in rows],
    )  # fmt: skip
    return {"rows": rows, "table": table}


if __name__ == "__main__":
    main()
