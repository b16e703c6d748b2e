"""A model upstream for the benchmarks: the fake Gemini or OpenAI-compatible server in its own
process, answering every request with the same stream, paced like a model.

    python -m bench.upstream gemini --chunks 30 --pause-ms 20          # prints its URL
    python -m bench.upstream gemini --course "Java for kids" --chunk-size 10 --pause-ms 20

`--chunks N` answers with a fixed structured (JSON) answer in N chunks. `--course CONTENT`
answers every request with the course the offline provider renders for CONTENT (the text the
offline benchmarks stream), in `--chunk-size` character chunks, so Lectern validates and saves
it as it would a model's; the first chunk also waits `--pause-ms`, as the offline provider's
does. The fake writes each chunk on its own clock: a slow reader finds them queued, as behind a
real model. `Upstream` starts one from a benchmark and stops it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable


def structured_answer(chunks: int) -> list[str]:
    """A course-like JSON answer (about 1.6 KB) cut into `chunks` pieces."""
    answer = json.dumps(
        {
            "title": "Java for kids",
            "description": "A gentle start with variables, loops and methods.",
            "modules": [
                {
                    "title": f"Module {i}",
                    "lessons": [
                        {"title": f"Lesson {i}.{j}", "objectives": ["Write a loop", "Say hello"]}
                        for j in range(3)
                    ],
                }
                for i in range(4)
            ],
        }
    )
    size = -(-len(answer) // chunks)
    return [answer[i : i + size] for i in range(0, len(answer), size)]


class Upstream:
    """`python -m bench.upstream ...` as a child process; `url` once it serves."""

    def __init__(self, provider: str, *args: str, log: Path | None = None) -> None:
        self.provider = provider
        out = open(log, "ab") if log else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [PYTHON, "-m", "bench.upstream", provider, *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=out,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode()
        if not line.startswith("serving "):
            self.stop()
            raise RuntimeError(f"the {provider} upstream did not start: {line!r}")
        self.url = line.split()[1]
        self.pid = self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Upstream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a paced fake model upstream.")
    parser.add_argument("provider", choices=["gemini", "openai"])
    parser.add_argument("--chunks", type=int, default=30)
    parser.add_argument("--pause-ms", type=float, default=20.0)
    parser.add_argument("--course", metavar="CONTENT", help="answer with this course's text")
    parser.add_argument("--chunk-size", type=int, default=10)
    args = parser.parse_args(argv)
    pause = args.pause_ms / 1000
    server: Any
    if args.provider == "gemini":
        from tests.fakes import gemini_server as fake

        if args.course:
            from bench.baseline import course_text

            text = course_text(args.course)
            course = fake.Reply.text(text, size=args.chunk_size, pause=pause, delay=pause)
            server = fake.FakeGeminiServer(default=lambda body: course)
        else:
            reply = fake.Reply(chunks=structured_answer(args.chunks), pause=pause)
            server = fake.FakeGeminiServer(default=lambda body: reply)
        url = server.url
    else:
        from tests.fakes import openai_server as compat

        reply = compat.Reply(chunks=structured_answer(args.chunks), pause=pause)
        server = compat.FakeOpenAIServer()
        server.default = lambda body: reply
        url = server.base_url
    server.start()
    server._httpd.socket.listen(1024)  # a burst of hundreds of connections must not wait
    print(f"serving {url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
