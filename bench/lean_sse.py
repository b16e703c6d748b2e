"""The floor of reading a model's stream: asyncio streams, HTTP/1.1 by hand, `json` per event.

What the provider benchmarks compare Lectern's provider code with (bench/provider_cpu.py), and
what the bare baseline server reads the upstream with in the benchmarks' provider mode
(bench/baseline.py): no HTTP library, no SDK, no types. Plain HTTP only (the fakes).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from typing import Any
from urllib.parse import urlsplit


class FloorError(Exception):
    """The upstream answered with an error status."""


class FloorClient:
    """POST a JSON body, read the server-sent events of the answer; keep-alive connections."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.prefix = parts.path.rstrip("/")
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self._head = f"Host: {self.host}:{self.port}\r\nContent-Type: application/json\r\n{extra}"
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def events(self, path: str, body: dict[str, Any]) -> AsyncGenerator[Any]:
        """The JSON payload of each `data:` event (OpenAI's `[DONE]` ends the stream)."""
        if self._idle:
            reader, writer = self._idle.pop()
        else:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        data = json.dumps(body).encode()
        head = f"POST {self.prefix}{path} HTTP/1.1\r\n{self._head}Content-Length: {len(data)}\r\n"
        writer.write(f"{head}\r\n".encode() + data)
        reusable = False
        try:
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            if status != 200:
                raise FloorError(f"{status}: {(await reader.readexactly(length)).decode()}")
            rest = b""
            lines: list[bytes] = []
            while size := int((await reader.readline()).split(b";")[0], 16):
                block = (await reader.readexactly(size + 2))[:-2]
                lines = (rest + block).split(b"\n")
                rest = lines.pop()
                for line in lines:
                    if line.startswith(b"data: ") and line[6:8] != b"[D":
                        yield json.loads(line[6:])
            await reader.readline()
            reusable = True
        finally:
            if reusable:
                self._idle.append((reader, writer))
            else:
                writer.close()

    async def aclose(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()


def gemini_text(payload: dict[str, Any]) -> str:
    """The answer text of one Gemini event."""
    candidates = payload.get("candidates") or ()
    parts = (candidates and (candidates[0].get("content") or {}).get("parts")) or ()
    return "".join(part.get("text", "") for part in parts)


def openai_text(payload: dict[str, Any]) -> str:
    """The answer text of one chat-completions chunk."""
    choices = payload.get("choices") or ()
    return (choices and (choices[0].get("delta") or {}).get("content")) or ""
