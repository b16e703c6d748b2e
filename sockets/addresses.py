"""The client's address, for limits keyed on it (anonymous use)."""

from typing import Any

from django.conf import settings


def client_address(scope: dict[str, Any]) -> str:
    """The client's address; X-Forwarded-For only when the peer is a trusted proxy."""
    peer = (scope.get("client") or ("unknown", 0))[0]
    if peer not in settings.TRUSTED_PROXIES:
        return peer
    headers = dict(scope.get("headers") or [])
    forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):  # the nearest hop that is not one of our proxies
        if hop not in settings.TRUSTED_PROXIES:
            return hop
    return peer
