"""WebSocket close codes the service uses (PROTOCOL.md, "Close codes")."""


class CloseCode:
    """Named close codes: never a bare number in a `close()` call."""

    UNAUTHORIZED = 4401
    AUTH_TIMEOUT = 4408
    TOO_MANY_CONNECTIONS = 4429
