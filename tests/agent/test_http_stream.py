"""http_stream.py, the lean reader's HTTP/1.1 client: keep-alive reuse, stale connections,
`Connection: close`, framing errors, and the proxy switch (cancellation and early close: in
test_gemini_agent.py, which runs on this client)."""

import asyncio
import contextlib
import datetime
import gzip
import ipaddress
import json
import socket
import ssl

import httpx2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ai_chat.agent.base import Completion, GenerationRequest
from ai_chat.agent.gemini import GeminiAgent
from ai_chat.agent.http_stream import StreamingHTTP, proxy_configured
from tests.fakes import gemini_server as fake
from tests.fakes import openai_server as openai_fake
from tests.fakes.gemini_server import Reply
from tests.fakes.openai_server import Reply as OpenAIReply

gemini_server = fake.gemini_server
openai_server = openai_fake.openai_server

REQUEST = GenerationRequest(kind="chat", instructions="", prompt="Hello?")


async def answer(agent):
    return [event async for event in agent.stream(REQUEST)][-1]


async def connections_used(server, replies) -> int:
    """How many connections one agent of `server` used for a generation per reply."""
    agent = server.make_agent()
    try:
        for reply in replies:
            server.push(reply)
            assert isinstance(await answer(agent), Completion)
    finally:
        await agent.aclose()
    return len({request.peer for request in server.requests})


async def test_a_kept_alive_connection_is_reused(gemini_server):
    assert await connections_used(gemini_server, [Reply(chunks=["Hi."])] * 3) == 1


async def test_an_openai_stream_read_to_done_keeps_its_connection(openai_server):
    """After `[DONE]` the body is read to its end, so the next request reuses the connection."""
    assert await connections_used(openai_server, [OpenAIReply(chunks=["Hi."])] * 3) == 1


async def test_connection_close_is_honoured(gemini_server):
    closing = Reply(chunks=["Hi."], headers={"Connection": "close"})
    assert await connections_used(gemini_server, [closing] * 2) == 2


EVENT = {"candidates": [{"content": {"parts": [{"text": "Hi."}]}, "finishReason": "STOP"}]}


async def one_shot_server(
    close_after: bool, body: bytes | None = None, tls=None, encoding: str | None = None
):
    """A server that answers each request on a connection, then (close_after) hangs up without
    saying so: the connection the client keeps is stale."""
    peers: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peers.append(writer.get_extra_info("peername")[1])
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            event = b"data: " + json.dumps(EVENT).encode() + b"\r\n\r\n"
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            if encoding:
                event = gzip.compress(event)
                head += b"Content-Encoding: %s\r\n" % encoding.encode()
            payload = body if body is not None else b"%x\r\n%s\r\n0\r\n\r\n" % (len(event), event)
            writer.write(head + b"Transfer-Encoding: chunked\r\n\r\n" + payload)
            await writer.drain()
            if close_after:
                writer.close()
                return

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    return server, peers


async def test_a_stale_kept_alive_connection_is_replaced():
    server, peers = await one_shot_server(close_after=True)
    port = server.sockets[0].getsockname()[1]
    agent = GeminiAgent(api_key="k", model="m", base_url=f"http://127.0.0.1:{port}", max_retries=0)
    try:
        first = await answer(agent)
        await asyncio.sleep(0.05)  # the server has hung up on the idle connection
        second = await answer(agent)
    finally:
        await agent.aclose()
        server.close()
        await server.wait_closed()
    assert first.text == second.text == "Hi."
    assert len(set(peers)) == 2


async def test_a_gzip_answer_is_decoded_though_identity_was_asked_for():
    server, _ = await one_shot_server(close_after=False, encoding="gzip")
    port = server.sockets[0].getsockname()[1]
    agent = GeminiAgent(api_key="k", model="m", base_url=f"http://127.0.0.1:{port}", max_retries=0)
    try:
        assert (await answer(agent)).text == "Hi."
    finally:
        await agent.aclose()
        server.close()
        await server.wait_closed()


@contextlib.asynccontextmanager
async def body_of(**server_options):
    """The body a `one_shot_server(**server_options)` answers, as the lean client reads it."""
    server, _ = await one_shot_server(**server_options)
    port = server.sockets[0].getsockname()[1]
    http = StreamingHTTP(f"http://127.0.0.1:{port}/v1beta", headers={}, ssl_context=None, timeout=5)
    try:
        response = await http.post("models/m:streamGenerateContent?alt=sse", b"{}")
        assert response.status_code == 200
        try:
            yield response.aread()
        finally:
            await response.aclose()
    finally:
        await http.aclose()
        server.close()
        await server.wait_closed()


async def test_an_unknown_content_encoding_is_an_error_not_garbage():
    async with body_of(close_after=False, encoding="br") as reading:
        with pytest.raises(httpx2.DecodingError):
            await reading


async def test_a_broken_chunked_body_is_a_protocol_error():
    async with body_of(close_after=True, body=b"zz\r\n") as reading:
        with pytest.raises(httpx2.RemoteProtocolError):
            await reading


async def test_an_unreachable_server_is_a_connect_error():
    with socket_on_free_port() as port:
        pass  # closed: nothing listens there now
    http = StreamingHTTP(f"http://127.0.0.1:{port}", headers={}, ssl_context=None, timeout=5)
    with pytest.raises(httpx2.ConnectError):
        await http.post("x", b"{}")


def test_proxy_configured_reads_the_environment(monkeypatch):
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert not proxy_configured("https://generativelanguage.googleapis.com/v1beta/")
    monkeypatch.setenv("https_proxy", "http://proxy.internal:3128")
    assert proxy_configured("https://generativelanguage.googleapis.com/v1beta/")
    monkeypatch.setenv("no_proxy", "googleapis.com")
    assert not proxy_configured("https://generativelanguage.googleapis.com/v1beta/")


@contextlib.contextmanager
def socket_on_free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def certificate_for_localhost(tmp_path):
    """A self-signed certificate for 127.0.0.1: (server context, client context trusting it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    return server, ssl.create_default_context(cafile=str(cert_file))


async def test_https_streams_over_tls_and_checks_the_certificate(tmp_path):
    server_tls, client_tls = certificate_for_localhost(tmp_path)
    server, peers = await one_shot_server(close_after=False, tls=server_tls)
    port = server.sockets[0].getsockname()[1]
    trusting = StreamingHTTP(
        f"https://127.0.0.1:{port}/v1beta", headers={}, ssl_context=client_tls, timeout=5
    )
    untrusting = StreamingHTTP(
        f"https://127.0.0.1:{port}/v1beta",
        headers={},
        ssl_context=ssl.create_default_context(),
        timeout=5,
    )
    try:
        for _ in range(2):  # the second request reuses the TLS connection
            response = await trusting.post("models/m:streamGenerateContent?alt=sse", b"{}")
            body = await response.aread()
            await response.aclose()
            assert response.status_code == 200 and b'"Hi."' in body
        assert len(set(peers)) == 1
        with pytest.raises(httpx2.ConnectError):  # a certificate nobody vouches for
            await untrusting.post("models/m:streamGenerateContent?alt=sse", b"{}")
    finally:
        await trusting.aclose()
        server.close()
        await server.wait_closed()
