"""Which repository addresses are accepted: checked on their face, then resolved and pinned."""

import pytest

from imports.repository import (
    FetchLimits,
    RepositoryFetchFailed,
    RepositoryRefused,
    check_repo_url,
    fetch_repository,
)
from imports.repository.urls import curl_resolve_entry, resolve_public_addresses


def test_https_url_is_normalised():
    """Scheme and host lower-cased, default port and trailing slash dropped."""
    assert (
        check_repo_url(" HTTPS://GitHub.com:443/Owner/Repo.git/ ", allow_local=False)
        == "https://github.com/Owner/Repo.git"
    )
    assert (
        check_repo_url("https://git.example.org:8443/team/docs", allow_local=False)
        == "https://git.example.org:8443/team/docs"
    )


@pytest.mark.parametrize(
    ("url", "sentence"),
    [
        ("http://github.com/o/r", "Only https:// repository addresses are accepted."),
        ("git://github.com/o/r", "Only https:// repository addresses are accepted."),
        ("ssh://git@github.com/o/r", "Only https:// repository addresses are accepted."),
        ("git@github.com:o/r.git", "Only https:// repository addresses are accepted."),
        ("ext::sh -c touch% /tmp/x", "The repository address contains spaces or control"),
        ("file:///srv/repo", "Only https:// repository addresses are accepted."),
        ("/srv/repo", "Only https:// repository addresses are accepted."),
        ("--upload-pack=touch", "Only https:// repository addresses are accepted."),
        ("https://user:secret@github.com/o/r", "must not contain a user name, password or token"),
        ("https://ghp_token@github.com/o/r", "must not contain a user name, password or token"),
        ("https://github.com", "names a host but no repository"),
        ("https://github.com/o/r?x=1", "must not have a query or fragment"),
        ("https://127.0.0.1/o/r", "private, loopback or link-local"),
        ("https://10.1.2.3/o/r", "private, loopback or link-local"),
        ("https://169.254.169.254/latest", "private, loopback or link-local"),
        ("https://[::1]/o/r", "private, loopback or link-local"),
        ("https://[::ffff:127.0.0.1]/o/r", "private, loopback or link-local"),
        ("https://localhost/o/r", "private, loopback or link-local"),
        ("https://metadata.internal/o/r", "private, loopback or link-local"),
        ("https://2130706433/o/r", "host name is not valid"),
        ("https://0x7f.1/o/r", "host name is not valid"),
        ("https://exa mple.com/o/r", "spaces or control characters"),
        ("https://github.com/o/../r", "must not contain '.' or '..' segments"),
        ("", "Give the repository's address"),
    ],
)
def test_refused_urls_say_why(url, sentence):
    """Each refused address raises RepositoryRefused with a readable sentence."""
    with pytest.raises(RepositoryRefused) as refused:
        check_repo_url(url, allow_local=False)
    assert sentence in refused.value.message


def test_refusal_never_repeats_the_credentials():
    """The sentence about credentials does not contain them."""
    with pytest.raises(RepositoryRefused) as refused:
        check_repo_url("https://user:hunter22@github.com/o/r", allow_local=False)
    assert "hunter22" not in refused.value.message and "hunter22" not in str(refused.value)


def test_local_paths_only_with_allow_local(tmp_path):
    """An absolute path (or file:// URL) is accepted only when local repositories are allowed."""
    assert check_repo_url(str(tmp_path / "r" / ".." / "r"), allow_local=True) == str(tmp_path / "r")
    assert check_repo_url(f"file://{tmp_path}/r", allow_local=True) == str(tmp_path / "r")
    with pytest.raises(RepositoryRefused):
        check_repo_url("relative/repo", allow_local=True)
    with pytest.raises(RepositoryRefused):
        check_repo_url(str(tmp_path), allow_local=False)


def test_allow_local_defaults_to_the_setting(settings, tmp_path):
    """Without allow_local, REPOSITORY_ALLOW_LOCAL decides."""
    settings.REPOSITORY_ALLOW_LOCAL = False
    with pytest.raises(RepositoryRefused):
        check_repo_url(str(tmp_path))
    settings.REPOSITORY_ALLOW_LOCAL = True
    assert check_repo_url(str(tmp_path)) == str(tmp_path)


@pytest.mark.parametrize(
    "addresses",
    [
        ["127.0.0.1"],
        ["10.0.0.5"],
        ["169.254.169.254"],
        ["8.8.8.8", "192.168.1.1"],
        ["fe80::1"],
        ["::ffff:10.0.0.1"],
        ["100.64.0.1"],
        ["0.0.0.0"],
    ],
)
def test_a_host_resolving_to_a_private_address_is_refused(addresses):
    """Every resolved address is checked: one private address refuses the host."""
    with pytest.raises(RepositoryFetchFailed) as failed:
        resolve_public_addresses("https://docs.example.com/o/r", lambda host, port: addresses)
    assert "private, loopback or link-local" in failed.value.message


def test_a_public_host_is_pinned_to_the_addresses_checked():
    """git is told to connect to exactly the checked addresses (curl's HOST:PORT:ADDR)."""
    asked: list[tuple[str, int]] = []

    def resolver(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]

    target = resolve_public_addresses("https://docs.example.com:8443/o/r", resolver)
    assert asked == [("docs.example.com", 8443)]
    assert curl_resolve_entry(target) == (
        "docs.example.com:8443:93.184.215.14,[2606:2800:21f:cb07:6820:80da:af6b:8b2c]"
    )


def test_an_address_in_the_url_is_checked_and_not_pinned():
    """A public IP literal needs no resolving (the resolver is not asked) and no pin."""

    def resolver(host: str, port: int) -> list[str]:
        raise AssertionError("an address is not resolved")

    target = resolve_public_addresses("https://[2606:4700::6810:84e5]/o/r", resolver)
    assert target.addresses == ("2606:4700::6810:84e5",)
    assert curl_resolve_entry(target) is None


def test_a_host_that_does_not_resolve_fails_with_a_sentence():
    """A DNS failure ends the fetch saying the host could not be found."""

    def resolver(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(RepositoryFetchFailed) as failed:
        resolve_public_addresses("https://nowhere.example.com/o/r", resolver)
    assert failed.value.message == (
        "The repository's host nowhere.example.com could not be found (DNS lookup failed)."
    )


@pytest.mark.parametrize("address", ["127.0.0.1", "10.9.8.7", "169.254.169.254"])
def test_fetch_refuses_a_private_host_before_running_git(fetch_tmp, address):
    """fetch_repository resolves once, refuses, and has made nothing on disk."""
    progress: list[int] = []
    with pytest.raises(RepositoryFetchFailed) as failed:
        fetch_repository(
            "https://repo.example.com/o/r",
            limits=FetchLimits(timeout_seconds=5),
            resolver=lambda host, port: [address],
            progress=lambda percent, step: progress.append(percent),
        )
    assert "private, loopback or link-local" in failed.value.message
    assert progress == []


def test_fetch_refuses_a_non_https_url(fetch_tmp):
    """RepositoryRefused comes out of fetch_repository too."""
    with pytest.raises(RepositoryRefused):
        fetch_repository("http://github.com/o/r", limits=FetchLimits())


def test_git_connects_to_the_pinned_address_not_to_what_dns_says(fetch_tmp, monkeypatch):
    """The host (which no DNS knows) is pinned to the checked address: git connects there.

    The address check is widened to loopback for this test only, so that the pinned address
    can be a listener the test owns; what is tested is where git connects.
    """
    import socket
    import threading

    from imports.repository import urls

    monkeypatch.setattr(urls, "_is_public", lambda address: True)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    connections: list[bytes] = []

    def accept() -> None:
        listener.settimeout(20)
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(5)
            try:
                connections.append(conn.recv(1024))  # the TLS ClientHello
            except OSError:
                connections.append(b"")

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    with pytest.raises(RepositoryFetchFailed) as failed:
        fetch_repository(
            f"https://repo.invalid:{port}/o/r",
            limits=FetchLimits(timeout_seconds=20),
            resolver=lambda host, port: ["127.0.0.1"],
        )
    thread.join(timeout=20)
    listener.close()
    assert connections and b"repo.invalid" in connections[0]  # SNI names the host
    assert failed.value.message != "The repository's host could not be found."


def test_a_missing_git_fails_with_a_sentence(fetch_tmp, tmp_path, monkeypatch):
    """Without git on the PATH the fetch fails saying the server could not run it."""
    from .gitrepo import make_repo

    repo = make_repo(tmp_path / "src", {"README.md": "# Hi\n"})
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(RepositoryFetchFailed) as failed:
        fetch_repository(str(repo), limits=FetchLimits(allow_local=True))
    assert failed.value.message.startswith("The server could not run git")


def test_a_dns_lookup_that_hangs_is_given_up_at_the_timeout(fetch_tmp):
    """The lookup counts against REPOSITORY_FETCH_TIMEOUT_SECONDS like the clone."""
    import threading

    release = threading.Event()

    def resolver(host: str, port: int) -> list[str]:
        release.wait(30)
        return ["93.184.215.14"]

    try:
        with pytest.raises(RepositoryFetchFailed) as failed:
            fetch_repository(
                "https://slow-dns.example.com/o/r",
                limits=FetchLimits(timeout_seconds=0.5),
                resolver=resolver,
            )
    finally:
        release.set()
    assert failed.value.message == (
        "Fetching the repository took longer than 0.5 seconds and was stopped."
    )
