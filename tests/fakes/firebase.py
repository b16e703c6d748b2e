"""A fake Firebase for tests: real RS256 tokens, served certificates, a user lookup endpoint.

firebase-admin verifies ID tokens for real here: `FirebaseSigner` signs tokens with its own RSA
key (PyJWT), and a local HTTP server (`FakeFirebaseServer`, a real socket on 127.0.0.1) serves
that key's self-signed X.509 certificate as `{kid: PEM}`, which is what Google's endpoint serves.
The `firebase` fixture points firebase-admin at it:

- certificates: `firebase_admin._token_gen.ID_TOKEN_CERT_URI`, read when the app's auth client
  (and its `TokenVerifier`, with its own `requests` + CacheControl session) is created;
- revocation and disabled users (`check_revoked=True`): `get_user` posts to
  `{UserManager.ID_TOOLKIT_URL}/projects/{project}/accounts:lookup`; the class attribute is
  patched, so the lookup goes to the fake while signature and expiry checks stay on (unlike
  `FIREBASE_AUTH_EMULATOR_HOST`, which turns them off).

Use in a test module: `from tests.fakes.firebase import firebase, firebase_server  # noqa: F401`
(or list `tests.fakes.firebase` in the root conftest's `pytest_plugins`).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from firebase_admin import _token_gen, _user_mgt

PROJECT_ID = "lectern-test"
DROP = object()  # a claim override that removes the claim
_DEFAULT = object()


@dataclass
class SigningKey:
    """An RSA key, its key id and a self-signed certificate for it."""

    kid: str
    private_key: rsa.RSAPrivateKey
    certificate_pem: str

    @classmethod
    def generate(cls, kid: str) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "securetoken.test")])
        now = dt.datetime.now(dt.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .sign(key, hashes.SHA256())
        )
        pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
        return cls(kid=kid, private_key=key, certificate_pem=pem)


@dataclass
class FakeState:
    """What the fake serves; reset before each test."""

    certificates: dict[str, str] = field(default_factory=dict)
    certificate_status: int = 200
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    lookup_status: int = 200
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        state = self.server.state
        state.requests.append(("GET", self.path))
        if self.path != "/certs":
            self._send_json(404, {"error": "not found"})
        elif state.certificate_status != 200:
            self._send_json(state.certificate_status, {"error": "certificate endpoint failing"})
        else:
            # Google serves these with a max-age; firebase-admin caches them (CacheControl).
            self._send_json(200, state.certificates, {"Cache-Control": "public, max-age=3600"})

    def do_POST(self) -> None:
        state = self.server.state
        state.requests.append(("POST", self.path))
        length = int(self.headers.get("Content-Length") or 0)
        payload = json.loads(self.rfile.read(length) or b"{}")
        if not self.path.endswith("/accounts:lookup"):
            self._send_json(404, {"error": {"code": 404, "message": "NOT_FOUND"}})
        elif state.lookup_status != 200:
            body = {"error": {"code": state.lookup_status, "message": "INTERNAL_ERROR"}}
            self._send_json(state.lookup_status, body)
        else:
            users = [state.users[uid] for uid in payload.get("localId", []) if uid in state.users]
            self._send_json(200, {"kind": "identitytoolkit#GetAccountInfoResponse", "users": users})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: FakeState


class FakeFirebaseServer:
    """Certificates at `cert_url`, Identity Toolkit `accounts:lookup` under `toolkit_url`."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = FakeState()
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self.cert_url = f"{self.base_url}/certs"
        self.toolkit_url = f"{self.base_url}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def state(self) -> FakeState:
        return self._server.state

    def reset(self) -> None:
        self._server.state = FakeState()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class FirebaseSigner:
    """Mints Firebase-shaped ID tokens and controls what the fake server answers."""

    def __init__(
        self,
        server: FakeFirebaseServer,
        key: SigningKey,
        other_key: SigningKey,
        project_id: str = PROJECT_ID,
    ) -> None:
        self.server = server
        self.key = key
        self.other_key = other_key  # not served: tokens signed with it fail the signature check
        self.project_id = project_id
        self.minted: list[str] = []  # every token made, so tests can check they are never logged
        server.state.certificates[key.kid] = key.certificate_pem

    # --- tokens ---

    def claims(
        self,
        uid: str = "u1",
        email: str | None = "ana@example.com",
        name: str | None = "Ana",
        **overrides: Any,
    ) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": f"https://securetoken.google.com/{self.project_id}",
            "aud": self.project_id,
            "auth_time": now,
            "user_id": uid,
            "sub": uid,
            "iat": now,
            "exp": now + 3600,
            "email": email,
            "email_verified": True,
            "name": name,
            "firebase": {
                "identities": {"email": [email]} if email else {},
                "sign_in_provider": "password",
            },
        }
        if email is None:
            del claims["email"], claims["email_verified"]
        if name is None:
            del claims["name"]
        for claim, value in overrides.items():
            if value is DROP:
                claims.pop(claim, None)
            else:
                claims[claim] = value
        return claims

    def token(
        self,
        uid: str = "u1",
        email: str | None = "ana@example.com",
        name: str | None = "Ana",
        *,
        key: SigningKey | None = None,
        kid: Any = _DEFAULT,
        algorithm: str = "RS256",
        **overrides: Any,
    ) -> str:
        """An ID token; `kid=None` leaves the header without one, `key=` signs with another key,
        `algorithm="none"` makes an unsigned token, `claim=DROP` removes a claim."""
        signing_key = key or self.key
        headers = {"typ": "JWT"}
        kid = signing_key.kid if kid is _DEFAULT else kid
        if kid is not None:
            headers["kid"] = kid
        claims = self.claims(uid, email, name, **overrides)
        if algorithm == "none":
            token = jwt.encode(claims, None, algorithm="none", headers=headers)
        else:
            token = jwt.encode(
                claims, signing_key.private_key, algorithm=algorithm, headers=headers
            )
        self.minted.append(token)
        return token

    # --- the Firebase user records behind check_revoked ---

    def add_user(
        self, uid: str = "u1", *, disabled: bool = False, valid_since: int | None = None
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "localId": uid,
            "email": f"{uid}@example.com",
            "emailVerified": True,
            "disabled": disabled,
            "createdAt": str((int(time.time()) - 86400) * 1000),
        }
        if valid_since is not None:
            record["validSince"] = str(valid_since)
        self.server.state.users[uid] = record
        return record

    def revoke(self, uid: str = "u1", at: int | None = None) -> None:
        """Tokens issued before `at` (default: now) are revoked, like revoke_refresh_tokens."""
        record = self.server.state.users.get(uid) or self.add_user(uid)
        record["validSince"] = str(at if at is not None else int(time.time()))

    def disable(self, uid: str = "u1") -> None:
        record = self.server.state.users.get(uid) or self.add_user(uid)
        record["disabled"] = True

    # --- failures ---

    def fail_certificates(self, status: int = 500) -> None:
        self.server.state.certificate_status = status

    def fail_lookup(self, status: int = 500) -> None:
        self.server.state.lookup_status = status

    @property
    def requests(self) -> list[tuple[str, str]]:
        return self.server.state.requests


@pytest.fixture(scope="session")
def firebase_server() -> Iterator[FakeFirebaseServer]:
    server = FakeFirebaseServer()
    yield server
    server.close()


@functools.cache
def signing_keys() -> tuple[SigningKey, SigningKey]:
    """The served key and another key with the same kid (for bad signatures), made once."""
    return SigningKey.generate("test-key-1"), SigningKey.generate("test-key-1")


@pytest.fixture
def firebase(
    firebase_server: FakeFirebaseServer,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[FirebaseSigner]:
    """Firebase configured for project `lectern-test`, verified against the fake server."""
    from accounts.firebase import reset_firebase_app

    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setattr(_token_gen, "ID_TOKEN_CERT_URI", firebase_server.cert_url)
    monkeypatch.setattr(_user_mgt.UserManager, "ID_TOOLKIT_URL", firebase_server.toolkit_url)
    settings.FIREBASE_PROJECT_ID = PROJECT_ID
    settings.FIREBASE_CREDENTIALS = None
    settings.FIREBASE_CHECK_REVOKED = False
    settings.FIREBASE_CLOCK_SKEW_SECONDS = 5
    firebase_server.reset()
    reset_firebase_app()
    key, other_key = signing_keys()
    yield FirebaseSigner(firebase_server, key, other_key)
    reset_firebase_app()
    firebase_server.reset()
