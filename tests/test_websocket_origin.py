"""Which pages may open a WebSocket: the Origin must be the server's own (host and port) or
one of CSRF_TRUSTED_ORIGINS."""

import pytest
from channels.testing import WebsocketCommunicator

from config.asgi import application
from sockets.origin import origin_allowed

pytestmark = pytest.mark.django_db(transaction=True)


async def handshake(origin: str, host: str) -> bool:
    headers = [(b"origin", origin.encode()), (b"host", host.encode())]
    communicator = WebsocketCommunicator(application, "/ws/ai/course-generation/", headers)
    connected, _ = await communicator.connect(timeout=10)
    await communicator.disconnect()
    return connected


async def test_a_page_served_by_this_server_may_connect():
    assert await handshake("http://127.0.0.1:8000", "127.0.0.1:8000")


async def test_a_page_on_another_port_of_an_allowed_host_is_refused():
    """Another application on the same machine is another origin, though its host is allowed."""
    assert not await handshake("http://127.0.0.1:9999", "127.0.0.1:8000")
    assert not await handshake("http://localhost:8001", "localhost:8000")


async def test_a_trusted_origin_on_another_port_may_connect(settings):
    settings.CSRF_TRUSTED_ORIGINS = ["http://localhost:5173"]
    assert await handshake("http://localhost:5173", "127.0.0.1:8000")
    assert not await handshake("http://localhost:5174", "127.0.0.1:8000")


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("http://127.0.0.1", "127.0.0.1"),
        ("https://127.0.0.1", "127.0.0.1"),
        ("http://localhost:8000", "LOCALHOST:8000"),
        ("http://[::1]:8000", "[::1]:8000"),
        ("http://127.0.0.1:80", "127.0.0.1"),
    ],
)
def test_the_servers_own_origin_is_allowed(origin, host):
    assert origin_allowed(origin, host=host)


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("http://127.0.0.1", None),  # no Host header: nothing to be the same origin as
        (None, "127.0.0.1"),  # no Origin: not a browser page
        ("null", "127.0.0.1"),  # a sandboxed frame or a file:// page
        ("https://127.0.0.1", "127.0.0.1:8000"),
        ("https://evil.example", "evil.example"),  # same origin, but not an allowed host
        ("ftp://127.0.0.1", "127.0.0.1"),
        ("http://127.0.0.1:99999", "127.0.0.1:99999"),
    ],
)
def test_other_origins_are_refused(origin, host):
    assert not origin_allowed(origin, host=host)


def test_trusted_origins_match_scheme_host_and_port(settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example.com", "https://*.lectern.example:8443"]
    host = "api.example.com"
    assert origin_allowed("https://app.example.com", host=host)
    assert origin_allowed("https://app.example.com:443", host=host)
    assert not origin_allowed("http://app.example.com", host=host)
    assert not origin_allowed("https://app.example.com:8443", host=host)
    assert origin_allowed("https://eu.lectern.example:8443", host=host)
    assert origin_allowed("https://lectern.example:8443", host=host)
    assert not origin_allowed("https://evil-lectern.example:8443", host=host)
    assert not origin_allowed("https://eu.lectern.example", host=host)
