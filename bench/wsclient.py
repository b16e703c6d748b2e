"""A lean WebSocket client for load generation (RFC 6455, asyncio protocol, no extensions).

Why not the `websockets` client: on a 2-core machine the load generator shares the CPU with
the server under test, and `websockets` costs several times more CPU per received frame than
this parser. This client does only what the benchmarks need: the upgrade handshake (optionally
offering permessage-deflate, to see what the server answers), unmasked server frames parsed in
place with an arrival timestamp taken in `data_received` (before any task scheduling), masked
client text frames, automatic pong, and the close handshake. Compressed frames (RSV1) are
reported as such and not inflated; fragmented messages are reassembled.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import Callable

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

# handler(payload, arrival_monotonic, compressed)
Handler = Callable[[bytes, float, bool], None]


class HandshakeError(Exception):
    """The server did not answer the upgrade with 101."""


def _mask(payload: bytes, key: bytes) -> bytes:
    n = len(payload)
    if not n:
        return payload
    repeated = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(n, "big")


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """A masked, final client frame."""
    n = len(payload)
    if n < 126:
        header = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        header = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    key = os.urandom(4)
    return header + key + _mask(payload, key)


class LeanWebSocket(asyncio.Protocol):
    """One client connection. Set `handler` to receive messages; `opened` resolves on 101."""

    def __init__(self, request: bytes, handler: Handler | None = None) -> None:
        self.request = request
        self.handler: Handler = handler or self._queue_handler
        self.queue: asyncio.Queue[tuple[bytes, float, bool]] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[dict[str, str]] = loop.create_future()
        self.closed: asyncio.Future[int | None] = loop.create_future()
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.is_open = False
        self.close_sent = False
        self.close_code: int | None = None
        self.fragments: list[bytes] = []
        self.fragment_compressed = False
        self.response_headers: dict[str, str] = {}

    # --- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.is_open = False
        if not self.opened.done():
            self.opened.set_exception(HandshakeError(f"connection lost during handshake: {exc}"))
        if not self.closed.done():
            self.closed.set_result(self.close_code)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.buf += data
        if not self.is_open and not self._handshake():
            return
        self._frames(now)

    # --- parsing ------------------------------------------------------------------------------

    def _handshake(self) -> bool:
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        del self.buf[: end + 4]
        status = head[0].split(" ", 2)
        for line in head[1:]:
            name, _, value = line.partition(":")
            self.response_headers[name.strip().lower()] = value.strip()
        if len(status) < 2 or status[1] != "101":
            self.opened.set_exception(HandshakeError(head[0]))
            assert self.transport is not None
            self.transport.close()
            return False
        self.is_open = True
        self.opened.set_result(self.response_headers)
        return True

    def _frames(self, now: float) -> None:
        buf, pos = self.buf, 0
        size = len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length = b1 & 0x7F
            offset = pos + 2
            if length == 126:
                if size - pos < 4:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                offset = pos + 4
            elif length == 127:
                if size - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                offset = pos + 10
            if b1 & 0x80:  # servers must not mask; skip the key if one does
                offset += 4
            if size < offset + length:
                break
            payload = bytes(buf[offset : offset + length])
            pos = offset + length
            self._frame(b0, payload, now)
        if pos:
            del buf[:pos]

    def _frame(self, b0: int, payload: bytes, now: float) -> None:
        opcode = b0 & 0x0F
        fin = b0 & 0x80
        if opcode in (OP_TEXT, OP_BINARY):
            if fin:
                self.handler(payload, now, bool(b0 & 0x40))
            else:
                self.fragments = [payload]
                self.fragment_compressed = bool(b0 & 0x40)
        elif opcode == OP_CONT:
            self.fragments.append(payload)
            if fin:
                message, self.fragments = b"".join(self.fragments), []
                self.handler(message, now, self.fragment_compressed)
        elif opcode == OP_PING:
            self._write(OP_PONG, payload)
        elif opcode == OP_CLOSE:
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
            if not self.close_sent:
                self._write(OP_CLOSE, payload[:2])
                self.close_sent = True
            assert self.transport is not None
            self.transport.close()

    def _queue_handler(self, payload: bytes, now: float, compressed: bool) -> None:
        self.queue.put_nowait((payload, now, compressed))

    # --- sending ----------------------------------------------------------------------------

    def _write(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(encode_frame(opcode, payload))

    def send_text(self, text: str | bytes) -> None:
        self._write(OP_TEXT, text.encode() if isinstance(text, str) else text)

    async def recv(self, timeout: float | None = None) -> tuple[bytes, float, bool]:
        """Next message from the default queue handler: (payload, arrival, compressed)."""
        return await asyncio.wait_for(self.queue.get(), timeout)

    async def close(self, code: int = 1000, timeout: float = 2.0) -> None:
        """Close handshake (bounded), then drop the TCP connection."""
        if self.transport is None or self.transport.is_closing():
            return
        if not self.close_sent:
            self._write(OP_CLOSE, code.to_bytes(2, "big"))
            self.close_sent = True
        try:
            await asyncio.wait_for(asyncio.shield(self.closed), timeout)
        except TimeoutError:
            pass
        finally:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


async def connect(
    host: str,
    port: int,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    handler: Handler | None = None,
    offer_deflate: bool = False,
    timeout: float = 30.0,
) -> LeanWebSocket:
    """Open a connection and complete the upgrade; raise HandshakeError on any other answer."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        f"Origin: http://{host}:{port}",
    ]
    if offer_deflate:
        lines.append("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    loop = asyncio.get_running_loop()
    _transport, protocol = await asyncio.wait_for(
        loop.create_connection(lambda: LeanWebSocket(request, handler), host, port), timeout
    )
    try:
        await asyncio.wait_for(asyncio.shield(protocol.opened), timeout)
    except BaseException:
        protocol.abort()
        raise
    return protocol
