"""A lean HTTP/1.1 client for one job: POST a JSON body and read a streamed answer's bytes.

What a model's server-sent event stream needs and no more: asyncio streams (TLS by the `ssl`
module), keep-alive connections reused per event loop, chunked, sized and close-delimited
bodies, `Accept-Encoding: identity` (a gzip or deflate answer is decoded all the same). An
HTTP library (httpx2: h11, httpcore, anyio) costs about three times this per streamed chunk
(bench/README.md, provider CPU), which behind hundreds of streams is what fills a core.
Failures raise httpx2's exception types (ConnectError, ConnectTimeout, ReadError,
RemoteProtocolError, DecodingError), so callers map them as they map httpx2's. No proxies:
`EventStream` (what the providers use) sends through httpx2 instead when one is configured
for the URL. `sse_data` splits a body into server-sent events.
"""

import asyncio
import time
import urllib.request
import zlib
from collections.abc import AsyncGenerator
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import httpx2

# An idle connection older than this is not reused (servers drop idle ones after a while).
IDLE_SECONDS = 30.0
MAX_IDLE = 64
MAX_HEADER_LINES = 200


@cache
def ssl_context() -> Any:
    """The CA certificates loaded once (tens of milliseconds each time otherwise)."""
    return httpx2.create_ssl_context()


def proxy_configured(url: str) -> bool:
    """Whether the environment routes `url` through a proxy (HTTPS_PROXY and NO_PROXY)."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    if not (proxies.get(parts.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(parts.hostname or "")


class StreamResponse:
    """A response whose head is read; `aiter_bytes()` reads the body as it arrives."""

    def __init__(
        self,
        pool: "StreamingHTTP",
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        status: int,
        headers: list[tuple[str, str]],
        reusable: bool,
    ) -> None:
        self._pool = pool
        self._reader, self._writer = connection
        self.status_code = status
        self.headers = httpx2.Headers(headers)
        names = {name.lower(): value.lower() for name, value in headers}
        self._chunked = "chunked" in names.get("transfer-encoding", "")
        length = names.get("content-length")
        self._length = int(length) if length is not None and not self._chunked else None
        self._reusable = reusable and (self._chunked or self._length is not None)
        self._done = False
        # We ask for identity; a gateway that compresses anyway is decoded (gzip, deflate).
        self.encoding = names.get("content-encoding", "identity").strip()

    async def aiter_bytes(self) -> AsyncGenerator[bytes]:
        """The body's bytes as they arrive, decoded."""
        if self.encoding in ("identity", ""):
            async for block in self._aiter_raw():
                yield block
            return
        wbits = {"gzip": 31, "x-gzip": 31, "deflate": 15}.get(self.encoding)
        if wbits is None:
            raise httpx2.DecodingError(f"unsupported Content-Encoding {self.encoding!r}")
        decoder = zlib.decompressobj(wbits)
        try:
            async for block in self._aiter_raw():
                if data := decoder.decompress(block):
                    yield data
            if data := decoder.flush():
                yield data
        except zlib.error as exc:
            raise httpx2.DecodingError(f"cannot decode the {self.encoding} body: {exc}") from None

    async def _aiter_raw(self) -> AsyncGenerator[bytes]:
        reader = self._reader
        try:
            if self._chunked:
                while True:
                    size_line = await reader.readline()
                    if not size_line.endswith(b"\n"):
                        raise httpx2.RemoteProtocolError("incomplete chunked read")
                    size = int(size_line.split(b";", 1)[0], 16)
                    if size == 0:
                        while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        break
                    block = await reader.readexactly(size + 2)
                    yield block[:-2]
            elif self._length is not None:
                left = self._length
                while left > 0:
                    block = await reader.read(min(left, 65536))
                    if not block:
                        raise httpx2.RemoteProtocolError("incomplete body")
                    left -= len(block)
                    yield block
            else:
                while block := await reader.read(65536):
                    yield block
        except asyncio.IncompleteReadError:
            raise httpx2.RemoteProtocolError("incomplete chunked read") from None
        except ValueError:
            raise httpx2.RemoteProtocolError("malformed chunk size") from None
        except OSError as exc:
            raise httpx2.ReadError(str(exc) or type(exc).__name__) from None
        self._done = True

    async def aread(self) -> bytes:
        return b"".join([block async for block in self.aiter_bytes()])

    async def aclose(self) -> None:
        """Give the connection back when the body was read to its end; else close it (so the
        server sees the client go)."""
        if self._writer is None:
            return
        connection = (self._reader, self._writer)
        self._writer = None  # type: ignore[assignment]
        if self._done and self._reusable:
            self._pool.release(connection)
        else:
            await _abort(connection[1])


async def _abort(writer: asyncio.StreamWriter) -> None:
    """Drop the connection now (unsent data and TLS goodbyes are of no use to a stream left
    half read), and wait until its socket is closed."""
    writer.transport.abort()
    try:
        await writer.wait_closed()
    except OSError:
        pass


class StreamingHTTP:
    """POSTs to one origin over pooled keep-alive connections."""

    def __init__(
        self, base_url: str, *, headers: dict[str, str], ssl_context: Any, timeout: float
    ) -> None:
        parts = urlsplit(base_url)
        self.scheme = parts.scheme
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._ssl = ssl_context if parts.scheme == "https" else None
        host = self.host if parts.port is None else f"{self.host}:{self.port}"
        fields = {"Host": host, "Accept": "*/*", "Accept-Encoding": "identity", **headers}
        self._head = "".join(f"{name}: {value}\r\n" for name, value in fields.items())
        self._idle: list[tuple[Any, float, asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post(self, path: str, body: bytes) -> StreamResponse:
        """Send the request and read the response's head (a stale kept-alive connection is
        replaced once)."""
        target = f"{self.prefix}/{path.lstrip('/')}"
        head = f"POST {target} HTTP/1.1\r\n{self._head}Content-Length: {len(body)}\r\n\r\n"
        request = head.encode() + body
        connection = self._reuse()
        if connection is not None:
            try:
                return await self._exchange(connection, request)
            except (OSError, httpx2.RemoteProtocolError, httpx2.ReadError):
                connection[1].close()  # closed by the server while idle: try a new one
        return await self._exchange(await self._connect(), request)

    def release(self, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        loop = asyncio.get_running_loop()
        if len(self._idle) < MAX_IDLE and not connection[1].is_closing():
            self._idle.append((loop, time.monotonic(), *connection))
        else:
            connection[1].close()

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for _, _, _, writer in idle:
            writer.close()

    def _reuse(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        loop = asyncio.get_running_loop()
        now = time.monotonic()
        while self._idle:
            owner, since, reader, writer = self._idle.pop()
            if owner is loop and now - since < IDLE_SECONDS and not reader.at_eof():
                if not writer.is_closing():
                    return reader, writer
            if owner is loop:
                writer.close()
        return None

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            async with asyncio.timeout(self.timeout):
                return await asyncio.open_connection(
                    self.host,
                    self.port,
                    ssl=self._ssl,
                    server_hostname=self.host if self._ssl else None,
                    limit=1 << 20,
                )
        except TimeoutError:
            what = f"connecting to {self.host}:{self.port} timed out"
            raise httpx2.ConnectTimeout(what) from None
        except OSError as exc:
            raise httpx2.ConnectError(str(exc) or type(exc).__name__) from None

    async def _exchange(
        self, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], request: bytes
    ) -> StreamResponse:
        reader, writer = connection
        try:
            writer.write(request)
            await writer.drain()
            status_line = await reader.readline()
            parts = status_line.split(None, 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
                raise httpx2.RemoteProtocolError("the server closed or sent no HTTP response")
            headers: list[tuple[str, str]] = []
            while (line := await reader.readline()) not in (b"\r\n", b"\n"):
                if not line or len(headers) > MAX_HEADER_LINES:
                    raise httpx2.RemoteProtocolError("incomplete response head")
                name, _, value = line.decode("latin-1").partition(":")
                headers.append((name.strip(), value.strip()))
        except BaseException:
            writer.close()
            raise
        closing = any(n.lower() == "connection" and v.lower() == "close" for n, v in headers)
        reusable = parts[0] == b"HTTP/1.1" and not closing
        return StreamResponse(self, connection, int(parts[1]), headers, reusable)


class EventStream:
    """POSTs JSON to one base URL and opens the streamed answer: over `StreamingHTTP`, or over
    httpx2 when the environment configures a proxy for the URL."""

    def __init__(
        self, base_url: str, *, headers: dict[str, str], ssl_context: Any, timeout: float
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self._direct: StreamingHTTP | None = None
        self._client: httpx2.AsyncClient | None = None
        if proxy_configured(self.base_url):
            self._client = httpx2.AsyncClient(
                headers=headers,
                # Per operation (connect, each read, write, pool); a stall between chunks is
                # the caller's limit.
                timeout=httpx2.Timeout(timeout),
                verify=ssl_context,  # no transport of ours: it would turn the proxy off
            )
        else:
            self._direct = StreamingHTTP(
                self.base_url, headers=headers, ssl_context=ssl_context, timeout=timeout
            )

    async def aclose(self) -> None:
        if self._direct is not None:
            await self._direct.aclose()
        if self._client is not None:
            await self._client.aclose()

    async def open(self, path: str, body: bytes) -> Any:
        """Send; the response with its head read (`status_code`, `headers`, `aiter_bytes()`,
        `aclose()`: close it in every case)."""
        if self._direct is not None:
            return await self._direct.post(path, body)
        assert self._client is not None
        request = self._client.build_request("POST", self.base_url + path, content=body)
        return await self._client.send(request, stream=True)

    async def read_error(self, response: Any, path: str) -> httpx2.Response:
        """An error answer read whole as an httpx2 response (what the SDKs build errors from)."""
        if isinstance(response, httpx2.Response):
            await response.aread()
            return response
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-encoding"]
        return httpx2.Response(
            response.status_code,
            headers=headers,
            content=await response.aread(),  # decoded
            request=httpx2.Request("POST", self.base_url + path),
        )


async def sse_data(response: Any) -> AsyncGenerator[bytes]:
    """The data of each server-sent event of a body (its `data:` lines joined); a body that is
    not SSE (a bare JSON error, as some servers send) comes last, whole."""
    rest = b""
    data: list[bytes] = []
    other: list[bytes] = []
    async for block in response.aiter_bytes():
        lines = (rest + block).split(b"\n")
        rest = lines.pop()
        for line in lines:
            if line.endswith(b"\r"):
                line = line[:-1]
            if line.startswith(b"data:"):
                data.append(line[6:] if line.startswith(b"data: ") else line[5:])
            elif not line:
                if data:
                    yield b"\n".join(data)
                    data = []
            elif not line.startswith((b":", b"event:", b"id:", b"retry:")):
                other.append(line)
    if rest.startswith(b"data:"):
        data.append(rest[6:] if rest.startswith(b"data: ") else rest[5:])
    elif rest.strip():
        other.append(rest)
    if data:
        yield b"\n".join(data)
    if other:
        yield b"\n".join(other)
