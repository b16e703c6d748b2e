"""Who may read `/metrics`: listed addresses or networks, or a signed-in staff user."""

import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest

DEFAULT_ALLOWED = ["127.0.0.1", "::1"]
FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_address(value: str) -> Address | None:
    """An IP address (an IPv4-mapped IPv6 address as IPv4), or None."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def parse_networks(values: Iterable[str]) -> list[Network]:
    """`METRICS_ALLOWED_IPS` entries as networks (an address is a /32 or /128); raises
    ValueError on an entry that is neither."""
    return [ipaddress.ip_network(value.strip(), strict=False) for value in values]


def client_address(request: HttpRequest) -> Address | None:
    """The client's address, or None when it cannot be known.

    A forwarded request is believed only from a `TRUSTED_PROXIES` peer, as the nearest hop of
    `X-Forwarded-For` that is not one of them. From any other peer a forwarding header means a
    proxy we do not know stands in between, and its address is not the client's: None.
    """
    peer = request.META.get("REMOTE_ADDR", "")
    trusted = set(getattr(settings, "TRUSTED_PROXIES", []))
    forwarded = any(request.headers.get(name) for name in FORWARDING_HEADERS)
    if peer not in trusted:
        return None if forwarded else parse_address(peer)
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return parse_address(hop)
    return parse_address(peer)


def address_allowed(address: Address | None) -> bool:
    if address is None:
        return False
    allowed = getattr(settings, "METRICS_ALLOWED_IPS", DEFAULT_ALLOWED)
    try:
        networks = parse_networks(allowed)
    except ValueError:  # the system check ops.E001 reports it; refuse meanwhile
        return False
    return any(address in network for network in networks)


async def metrics_allowed(request: HttpRequest) -> bool:
    if address_allowed(client_address(request)):
        return True
    user = await request.auser()
    return bool(user.is_authenticated and user.is_active and user.is_staff)
