"""Which repository addresses are accepted, and where an https host may be fetched from.

`check_repo_url` does no network I/O: it refuses what is wrong on its face (a scheme other than
https, credentials, a local path without REPOSITORY_ALLOW_LOCAL, a host that is a private
address). `resolve_public_addresses` resolves an https host once and refuses it unless every
address is public; the fetch then pins git to exactly those addresses, so DNS cannot rebind
between the check and the connection.
"""

import ipaddress
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from .errors import RepositoryFetchFailed, RepositoryRefused

MAX_URL_LENGTH = 2048
_LOCAL_NAMES = ("localhost", ".localhost", ".local", ".internal", ".home.arpa")

# host, port -> the addresses the host resolves to.
Resolver = Callable[[str, int], list[str]]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class RemoteTarget:
    """An https repository and the checked addresses git must connect to."""

    url: str
    host: str
    port: int
    addresses: tuple[str, ...]


def check_repo_url(url: str, *, allow_local: bool | None = None) -> str:
    """The normalised repository address, or RepositoryRefused saying why it is not accepted."""
    if allow_local is None:
        from django.conf import settings

        allow_local = bool(settings.REPOSITORY_ALLOW_LOCAL)
    url = (url or "").strip()
    if not url:
        raise RepositoryRefused("Give the repository's address (https://...).")
    if len(url) > MAX_URL_LENGTH:
        raise RepositoryRefused("The repository address is too long.")
    if any(ord(c) < 32 or ord(c) == 127 or c.isspace() for c in url):
        raise RepositoryRefused("The repository address contains spaces or control characters.")
    if url.lower().startswith("https://"):
        return _check_https(url)
    if allow_local:
        return _check_local(url)
    raise RepositoryRefused("Only https:// repository addresses are accepted.")


def is_local_path(url: str) -> bool:
    """Whether a checked address is a local repository (only with REPOSITORY_ALLOW_LOCAL)."""
    return url.startswith("/")


def _check_https(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise RepositoryRefused("The repository address is not a valid URL.") from None
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise RepositoryRefused(
            "The repository address must not contain a user name, password or token."
        )
    if parts.query or parts.fragment:
        raise RepositoryRefused("The repository address must not have a query or fragment.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise RepositoryRefused("The repository address has no host.")
    literal = _ip_literal(host)
    if literal is not None:
        if not _is_public(literal):
            raise RepositoryRefused(_PRIVATE_SENTENCE)
        host_text = f"[{literal.compressed}]" if literal.version == 6 else literal.compressed
    else:
        host_text = _check_host_name(host)
    path = parts.path.rstrip("/")
    if not path or path == "/":
        raise RepositoryRefused("The repository address names a host but no repository.")
    if any(segment in (".", "..") for segment in path.split("/")):
        raise RepositoryRefused("The repository address must not contain '.' or '..' segments.")
    netloc = host_text if port in (None, 443) else f"{host_text}:{port}"
    return SplitResult("https", netloc, path, "", "").geturl()


def _check_host_name(host: str) -> str:
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise RepositoryRefused("The repository address's host name is not valid.") from None
    labels = ascii_host.split(".")
    valid = all(
        0 < len(label) <= 63
        and label[0] != "-"
        and label[-1] != "-"
        and all(c.isalnum() or c == "-" for c in label)
        for label in labels
    )
    if not valid or len(ascii_host) > 253:
        raise RepositoryRefused("The repository address's host name is not valid.")
    # Numeric forms such as 2130706433 or 0x7f.1 are addresses to some resolvers: refuse them.
    if labels[-1].isdigit() or labels[-1].startswith("0x"):
        raise RepositoryRefused("The repository address's host name is not valid.")
    if ascii_host == "localhost" or ascii_host.endswith(_LOCAL_NAMES):
        raise RepositoryRefused(_PRIVATE_SENTENCE)
    return ascii_host


def _check_local(url: str) -> str:
    path = url[len("file://") :] if url.lower().startswith("file://") else url
    if not path.startswith("/"):
        raise RepositoryRefused(
            "Only https:// addresses or absolute local paths (development) are accepted."
        )
    return os.path.normpath(path)


_PRIVATE_SENTENCE = (
    "The repository's host is a private, loopback or link-local address, which is not allowed."
)


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host` (TCP)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def resolve_public_addresses(url: str, resolver: Resolver | None = None) -> RemoteTarget:
    """The checked https address with every address its host resolves to, all public."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or 443
    literal = _ip_literal(host)
    if literal is not None:
        addresses = [literal.compressed]
    else:
        try:
            addresses = (resolver or system_resolver)(host, port)
        except (OSError, UnicodeError):
            raise RepositoryFetchFailed(
                f"The repository's host {host} could not be found (DNS lookup failed)."
            ) from None
    if not addresses:
        raise RepositoryFetchFailed(f"The repository's host {host} has no address.")
    for text in addresses:
        address = _ip_literal(text)
        if address is None or not _is_public(address):
            raise RepositoryFetchFailed(
                f"The repository's host {host} resolves to a private, loopback or link-local "
                "address, which is not allowed."
            )
    return RemoteTarget(url=url, host=host, port=port, addresses=tuple(addresses))


def curl_resolve_entry(target: RemoteTarget) -> str | None:
    """`http.curloptResolve` pinning the host to its checked addresses (curl's HOST:PORT:ADDR);
    None for an address written in the URL, which nothing resolves."""
    if _ip_literal(target.host) is not None:
        return None
    addresses = ",".join(f"[{a}]" if ":" in a else a for a in target.addresses)
    return f"{target.host}:{target.port}:{addresses}"
