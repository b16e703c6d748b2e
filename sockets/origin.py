"""Which pages may open a WebSocket: Django's CSRF origin rule, applied to the handshake.

Channels' `AllowedHostsOriginValidator` compares only the Origin's host name with
`ALLOWED_HOSTS`, so a page on any port of an allowed host (`http://localhost:9999`, another
application on the same machine) could open a signed-in socket with the user's session cookie.
Here an Origin is allowed when it is

- the server's own origin: the Origin's host *and* port are the handshake's `Host` header, and
  that host is in `ALLOWED_HOSTS` (what a same-origin page sends; Django's `get_host` rule), or
- one of `CSRF_TRUSTED_ORIGINS` (scheme, host and port; `https://*.example.com` covers
  subdomains), the setting Django already uses for cross-origin form posts.

Without an Origin header (not a browser), or with one that matches neither, the handshake is
refused with 403 before anything else runs.
"""

from typing import Any
from urllib.parse import SplitResult, urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

DEFAULT_PORTS = {"http": 80, "https": 443}


class OriginValidator:
    """Refuse a WebSocket handshake whose Origin is neither the server's own nor trusted."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if origin_allowed(header(scope, b"origin"), host=header(scope, b"host")):
            return await self.inner(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)


def header(scope: dict[str, Any], name: bytes) -> str | None:
    """The value of the handshake's first header called `name`, if any."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin1")
    return None


def origin_allowed(origin: str | None, *, host: str | None) -> bool:
    """Whether a page at `origin` may open a socket on a server reached as `host`."""
    parsed = parse_origin(origin)
    if parsed is None:
        return False
    return same_origin(parsed, host) or any(
        trusted_match(parsed, pattern) for pattern in settings.CSRF_TRUSTED_ORIGINS
    )


def parse_origin(origin: str | None) -> SplitResult | None:
    """The Origin as a URL when it is an http(s) origin with a host and a valid port."""
    if not origin:
        return None
    try:
        parsed = urlsplit(origin.strip().lower())
        parsed.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError:
        return None
    if parsed.scheme not in DEFAULT_PORTS or not parsed.hostname:
        return None
    return parsed


def port_of(url: SplitResult) -> int | None:
    return url.port or DEFAULT_PORTS.get(url.scheme)


def same_origin(origin: SplitResult, host: str | None) -> bool:
    """The Origin names the host and port this handshake was sent to, an allowed host."""
    if not host:
        return False
    domain, port = split_domain_port(host.lower())
    if not domain or not validate_host(domain, allowed_hosts()):
        return False
    # Browsers leave the scheme's default port out of both Host and Origin.
    host_port = int(port) if port else DEFAULT_PORTS[origin.scheme]
    # `Host` keeps an IPv6 address in brackets; `urlsplit(...).hostname` drops them.
    return origin.hostname == domain.strip("[]") and port_of(origin) == host_port


def trusted_match(origin: SplitResult, pattern: str) -> bool:
    """`origin` is `pattern` (a CSRF_TRUSTED_ORIGINS entry) in scheme, host and port."""
    scheme, _, netloc = pattern.lower().partition("://")
    wildcard = netloc.startswith("*.")
    try:
        trusted = urlsplit(f"{scheme}://{netloc.removeprefix('*.')}")
        trusted_port = port_of(trusted)
    except ValueError:
        return False
    if trusted.scheme != origin.scheme or not trusted.hostname:
        return False
    if trusted_port != port_of(origin):
        return False
    if wildcard:  # `*.example.com`: example.com and every subdomain, as Django's CSRF check
        return is_same_domain(origin.hostname or "", f".{trusted.hostname}")
    return origin.hostname == trusted.hostname


def allowed_hosts() -> list[str]:
    """ALLOWED_HOSTS, with Django's local defaults when it is empty in DEBUG."""
    if settings.DEBUG and not settings.ALLOWED_HOSTS:
        return [".localhost", "127.0.0.1", "[::1]"]
    return list(settings.ALLOWED_HOSTS)
