"""Firebase ID token verification (real RS256 signatures) and the Firebase -> Django user map.

Tokens are signed by `tests.fakes.firebase.FirebaseSigner`; firebase-admin checks them against
certificates it fetches from the fake's local HTTP server, so every rejection below comes from
firebase-admin's own checks. An autouse fixture asserts after every test that no minted token
(or a piece of one) reached the logs.
"""

import json
import logging
import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from firebase_admin import _token_gen

from accounts import firebase as firebase_module
from accounts import users as users_module
from accounts.firebase import AuthFailed, FirebaseClaims, verify_firebase_token
from accounts.models import FirebaseAccount
from accounts.users import (
    LAST_SEEN_RESOLUTION,
    authenticate_token,
    user_for_firebase_claims,
    user_payload,
)
from sockets.consumer import auth_error_frame
from tests.fakes.firebase import DROP, firebase, firebase_server  # noqa: F401

User = get_user_model()


@pytest.fixture(autouse=True)
def no_token_in_logs(firebase, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    yield
    logged = [caplog.text, *(record.getMessage() for record in caplog.records)]
    for token in firebase.minted:
        pieces = [token, *(part for part in token.split(".") if len(part) >= 8)]
        for text in logged:
            for piece in pieces:
                assert piece not in text


def rejected(token: str) -> AuthFailed:
    with pytest.raises(AuthFailed) as caught:
        verify_firebase_token(token)
    if token.strip():
        assert token not in caught.value.message
    return caught.value


# --- accepted tokens ----------------------------------------------------------------------------


def test_valid_token_gives_its_claims(firebase):  # noqa: F811
    """A correctly signed token verifies and yields uid, email, name, email_verified, expiry."""
    now = int(time.time())
    token = firebase.token("u1", "ana@example.com", "Ana Lima", iat=now, exp=now + 3600)
    claims = verify_firebase_token(token)
    assert claims.uid == "u1"
    assert claims.email == "ana@example.com"
    assert claims.display_name == "Ana Lima"
    assert claims.email_verified is True
    assert claims.expires_at.tzinfo is not None
    assert claims.expires_at.timestamp() == now + 3600
    assert not claims.expired


def test_token_without_email_or_name_verifies(firebase):  # noqa: F811
    """Phone or anonymous sign-ins carry no email or name: those claims are None."""
    claims = verify_firebase_token(firebase.token("phone-user", email=None, name=None))
    assert (claims.uid, claims.email, claims.display_name) == ("phone-user", None, None)
    assert claims.email_verified is False


def test_certificates_are_fetched_once_and_cached(firebase):  # noqa: F811
    """The app is initialised once: its certificate cache serves the second verification."""
    verify_firebase_token(firebase.token("u1"))
    verify_firebase_token(firebase.token("u2"))
    assert firebase.requests.count(("GET", "/certs")) == 1


# --- rejections: each from firebase-admin's own checks -----------------------------------------


def test_token_without_kid_is_invalid(firebase):  # noqa: F811
    """A token whose header has no kid is refused with invalid_token."""
    assert rejected(firebase.token(kid=None)).code == "invalid_token"


def test_token_with_unknown_kid_is_invalid(firebase):  # noqa: F811
    """A kid the certificate endpoint does not list is refused with invalid_token."""
    assert rejected(firebase.token(kid="no-such-key")).code == "invalid_token"


def test_token_for_another_project_is_invalid(firebase):  # noqa: F811
    """A wrong aud (another Firebase project) is refused with invalid_token."""
    assert rejected(firebase.token(aud="other-project")).code == "invalid_token"


def test_token_from_wrong_issuer_is_invalid(firebase):  # noqa: F811
    """A wrong iss is refused with invalid_token."""
    token = firebase.token(iss="https://securetoken.google.com/other-project")
    assert rejected(token).code == "invalid_token"


def test_token_with_empty_sub_is_invalid(firebase):  # noqa: F811
    """An empty sub claim is refused with invalid_token."""
    assert rejected(firebase.token(sub="")).code == "invalid_token"


def test_token_without_sub_is_invalid(firebase):  # noqa: F811
    """A missing sub claim is refused with invalid_token."""
    assert rejected(firebase.token(sub=DROP)).code == "invalid_token"


def test_token_with_129_character_sub_is_invalid(firebase):  # noqa: F811
    """A sub longer than 128 characters is refused with invalid_token."""
    assert rejected(firebase.token(sub="x" * 129)).code == "invalid_token"


def test_token_issued_in_the_future_is_invalid(firebase):  # noqa: F811
    """An iat beyond the allowed clock skew is refused with invalid_token."""
    now = int(time.time())
    token = firebase.token(iat=now + 600, auth_time=now + 600, exp=now + 4200)
    assert rejected(token).code == "invalid_token"


def test_expired_token_is_expired_token(firebase):  # noqa: F811
    """A token past its exp (beyond the skew) is refused with expired_token."""
    now = int(time.time())
    token = firebase.token(iat=now - 7200, auth_time=now - 7200, exp=now - 3600)
    failure = rejected(token)
    assert failure.code == "expired_token"
    assert not failure.retryable


def test_token_within_clock_skew_of_expiry_is_accepted(firebase, settings):  # noqa: F811
    """FIREBASE_CLOCK_SKEW_SECONDS tolerates a token that expired a moment ago."""
    settings.FIREBASE_CLOCK_SKEW_SECONDS = 30
    now = int(time.time())
    token = firebase.token(iat=now - 3610, auth_time=now - 3610, exp=now - 10)
    assert verify_firebase_token(token).uid == "u1"


def test_unsigned_alg_none_token_is_invalid(firebase):  # noqa: F811
    """An alg "none" token (no signature) is refused with invalid_token."""
    assert rejected(firebase.token(algorithm="none")).code == "invalid_token"


def test_token_signed_with_another_key_is_invalid(firebase):  # noqa: F811
    """A token with a known kid but signed by another key fails the signature check."""
    token = firebase.token(key=firebase.other_key, kid=firebase.key.kid)
    assert rejected(token).code == "invalid_token"


def test_tampered_payload_is_invalid(firebase):  # noqa: F811
    """Swapping in another token's payload breaks the signature: invalid_token."""
    header, _, signature = firebase.token("u1").split(".")
    _, payload, _ = firebase.token("admin").split(".")
    assert rejected(f"{header}.{payload}.{signature}").code == "invalid_token"


def test_custom_token_is_invalid(firebase):  # noqa: F811
    """A Firebase custom token (sign-in input, not an ID token) is refused with invalid_token."""
    audience = (
        "https://identitytoolkit.googleapis.com/google.identity.identitytoolkit.v1.IdentityToolkit"
    )
    assert rejected(firebase.token(aud=audience)).code == "invalid_token"


def test_malformed_tokens_are_invalid(firebase):  # noqa: F811
    """Garbage, empty, blank and oversized tokens are refused with invalid_token."""
    for token in ["not-a-jwt", "a.b.c", "", "   ", "x" * 20000]:
        assert rejected(token).code == "invalid_token"


def test_non_string_token_is_invalid(firebase):  # noqa: F811
    """A token that is not a string (a JSON number from the client) is refused."""
    with pytest.raises(AuthFailed) as caught:
        verify_firebase_token(12345)  # type: ignore[arg-type]
    assert caught.value.code == "invalid_token"


# --- revocation and disabled Firebase users (check_revoked) ------------------------------------


def test_unrevoked_token_passes_the_revocation_check(firebase, settings):  # noqa: F811
    """With FIREBASE_CHECK_REVOKED on, a live user's token verifies after a user lookup."""
    settings.FIREBASE_CHECK_REVOKED = True
    firebase.add_user("u1", valid_since=int(time.time()) - 3600)
    assert verify_firebase_token(firebase.token("u1")).uid == "u1"
    assert ("POST", "/v1/projects/lectern-test/accounts:lookup") in firebase.requests


def test_revoked_token_is_revoked_token(firebase, settings):  # noqa: F811
    """A token issued before the user's tokensValidAfterTime is refused with revoked_token."""
    settings.FIREBASE_CHECK_REVOKED = True
    now = int(time.time())
    token = firebase.token("u1", iat=now - 60, auth_time=now - 60)
    firebase.revoke("u1", at=now)
    assert rejected(token).code == "revoked_token"


def test_revocation_is_not_checked_when_setting_is_off(firebase):  # noqa: F811
    """With FIREBASE_CHECK_REVOKED off, no lookup is made and a revoked token still passes."""
    now = int(time.time())
    token = firebase.token("u1", iat=now - 60, auth_time=now - 60)
    firebase.revoke("u1", at=now)
    assert verify_firebase_token(token).uid == "u1"
    assert all(method == "GET" for method, _ in firebase.requests)


def test_disabled_firebase_user_is_user_disabled(firebase, settings):  # noqa: F811
    """A Firebase account marked disabled is refused with user_disabled."""
    settings.FIREBASE_CHECK_REVOKED = True
    firebase.disable("u1")
    assert rejected(firebase.token("u1")).code == "user_disabled"


def test_deleted_firebase_user_is_invalid(firebase, settings):  # noqa: F811
    """With the revocation check on, a uid the lookup does not know is refused."""
    settings.FIREBASE_CHECK_REVOKED = True
    assert rejected(firebase.token("gone")).code == "invalid_token"


def test_failing_user_lookup_fails_closed(firebase, settings):  # noqa: F811
    """If the revocation lookup is refused (e.g. no credentials: 403), the token is refused."""
    settings.FIREBASE_CHECK_REVOKED = True
    firebase.add_user("u1")
    firebase.fail_lookup(403)
    failure = rejected(firebase.token("u1"))
    assert failure.code == "invalid_token"
    assert failure.retryable
    assert "unavailable" in failure.message


# --- fail closed, configuration -----------------------------------------------------------------


def test_failing_certificate_endpoint_fails_closed(firebase):  # noqa: F811
    """A 500 from the certificate endpoint refuses even a valid token, with a retryable message."""
    firebase.fail_certificates(500)
    failure = rejected(firebase.token("u1"))
    assert failure.code == "invalid_token"
    assert failure.retryable
    assert "temporarily unavailable" in failure.message


def test_unreachable_certificate_endpoint_fails_closed(firebase, monkeypatch):  # noqa: F811
    """A certificate endpoint nothing listens on refuses the token too."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(_token_gen, "ID_TOKEN_CERT_URI", f"http://127.0.0.1:{port}/")
    failure = rejected(firebase.token("u1"))
    assert (failure.code, failure.retryable) == ("invalid_token", True)


def test_missing_project_id_refuses_with_clear_message(firebase, settings, caplog):  # noqa: F811
    """Without FIREBASE_PROJECT_ID every token is refused as not configured; logged once."""
    settings.FIREBASE_PROJECT_ID = None
    for _ in range(2):
        failure = rejected(firebase.token("u1"))
        assert failure.code == "invalid_token"
        assert "Firebase sign-in is not configured" in failure.message
    errors = [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.name == firebase_module.__name__
    ]
    assert len(errors) == 1
    assert "FIREBASE_PROJECT_ID" in errors[0].getMessage()
    assert firebase.requests == []


def test_unreadable_credentials_file_refuses_as_not_configured(firebase, settings, tmp_path):  # noqa: F811
    """A FIREBASE_CREDENTIALS path that is not a service-account file refuses every token."""
    bad = tmp_path / "service-account.json"
    bad.write_text("{}")
    settings.FIREBASE_CREDENTIALS = str(bad)
    failure = rejected(firebase.token("u1"))
    assert failure.code == "invalid_token"
    assert "not configured" in failure.message


def test_changed_project_id_reinitialises_the_app(firebase, settings):  # noqa: F811
    """The app follows the settings: after switching projects, old-project tokens are refused."""
    token = firebase.token("u1")
    assert verify_firebase_token(token).uid == "u1"
    settings.FIREBASE_PROJECT_ID = "another-project"
    assert rejected(token).code == "invalid_token"


def test_rejections_do_not_log_the_token(firebase, settings, caplog):  # noqa: F811
    """Messages that google-auth builds from the token itself are redacted before logging."""
    settings.FIREBASE_CHECK_REVOKED = True
    bad = ["abc", "Zm9vYmFyYmF6cXV4.Zm9vYmFyYmF6cXV4", "Zm9vYmFyYmF6cXV4.e30.c2lnbmF0dXJl!!"]
    for token in bad:
        rejected(token)
        for text in [caplog.text, *(record.getMessage() for record in caplog.records)]:
            assert token not in text
            assert "Zm9vYmFyYmF6cXV4" not in text
    assert any(r.name == firebase_module.__name__ for r in caplog.records)


# --- Firebase user -> Django user ---------------------------------------------------------------


def claims_for(uid="u1", email="ana@example.com", name="Ana") -> FirebaseClaims:
    return FirebaseClaims(
        uid=uid,
        email=email,
        display_name=name,
        email_verified=True,
        expires_at=datetime.fromtimestamp(time.time() + 3600, tz=UTC),
    )


@pytest.mark.django_db
def test_first_sign_in_creates_a_django_user(firebase):  # noqa: F811
    """A new uid gets one Django user: username from the uid, unusable password, profile."""
    user = user_for_firebase_claims(verify_firebase_token(firebase.token("u1", "a@b.c", "Ana")))
    assert user.username == "firebase-u1"
    assert not user.has_usable_password()
    assert (user.email, user.first_name, user.is_active) == ("a@b.c", "Ana", True)
    assert FirebaseAccount.objects.get(uid="u1").user == user


@pytest.mark.django_db
def test_second_sign_in_reuses_the_user(firebase):  # noqa: F811
    """The same uid signing in again maps to the same Django user; nothing new is created."""
    first = user_for_firebase_claims(verify_firebase_token(firebase.token("u1")))
    second = user_for_firebase_claims(verify_firebase_token(firebase.token("u1")))
    assert second.pk == first.pk
    assert User.objects.count() == 1
    assert FirebaseAccount.objects.count() == 1


@pytest.mark.django_db
def test_sign_in_refreshes_email_and_name(firebase):  # noqa: F811
    """Email and display name follow the latest token's claims."""
    user = user_for_firebase_claims(verify_firebase_token(firebase.token("u1", "a@b.c", "Ana")))
    user_for_firebase_claims(verify_firebase_token(firebase.token("u1", "new@b.c", "Ana Lima")))
    user.refresh_from_db()
    assert (user.email, user.first_name) == ("new@b.c", "Ana Lima")


@pytest.mark.django_db
def test_sign_in_without_email_claim_keeps_the_stored_email(firebase):  # noqa: F811
    """A token without email or name leaves the stored profile as it is."""
    user = user_for_firebase_claims(claims_for("u1", "a@b.c", "Ana"))
    user_for_firebase_claims(claims_for("u1", None, None))
    user.refresh_from_db()
    assert (user.email, user.first_name) == ("a@b.c", "Ana")


@pytest.mark.django_db
def test_sign_in_updates_last_seen(firebase):  # noqa: F811
    """A sign-in after a long absence stamps the account's last_seen_at."""
    user_for_firebase_claims(claims_for("u1"))
    account = FirebaseAccount.objects.get(uid="u1")
    FirebaseAccount.objects.filter(pk=account.pk).update(
        last_seen_at=datetime(2020, 1, 1, tzinfo=UTC)
    )
    user_for_firebase_claims(claims_for("u1"))
    account.refresh_from_db()
    assert account.last_seen_at.year > 2020


@pytest.mark.django_db
def test_sign_in_writes_last_seen_at_most_every_resolution(firebase):  # noqa: F811
    """A token refresh minutes after the last one writes nothing: one write per 15 minutes."""
    user_for_firebase_claims(claims_for("u1"))
    account = FirebaseAccount.objects.get(uid="u1")
    recent = timezone.now() - LAST_SEEN_RESOLUTION + timedelta(minutes=1)
    FirebaseAccount.objects.filter(pk=account.pk).update(last_seen_at=recent)
    with CaptureQueriesContext(connection) as queries:
        user_for_firebase_claims(claims_for("u1"))
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    account.refresh_from_db()
    assert account.last_seen_at == recent


@pytest.mark.django_db
def test_distinct_uids_get_distinct_users(firebase):  # noqa: F811
    """Two Firebase uids with the same email still map to two Django users."""
    one = user_for_firebase_claims(claims_for("u1", "same@b.c"))
    two = user_for_firebase_claims(claims_for("u2", "same@b.c"))
    assert one.pk != two.pk


@pytest.mark.django_db
def test_inactive_django_user_is_user_disabled(firebase):  # noqa: F811
    """A Django user deactivated by staff cannot sign in with a valid token: user_disabled."""
    user = user_for_firebase_claims(verify_firebase_token(firebase.token("u1")))
    User.objects.filter(pk=user.pk).update(is_active=False)
    with pytest.raises(AuthFailed) as caught:
        user_for_firebase_claims(verify_firebase_token(firebase.token("u1")))
    assert caught.value.code == "user_disabled"


@pytest.mark.django_db
def test_concurrent_first_sign_in_reuses_the_winners_user(firebase, monkeypatch):  # noqa: F811
    """If another connection created the account between our read and insert, we use theirs."""
    winner = user_for_firebase_claims(claims_for("u1"))
    real_find = users_module._find_account
    reads = []

    def stale_then_real(uid):
        reads.append(uid)
        return None if len(reads) == 1 else real_find(uid)

    monkeypatch.setattr(users_module, "_find_account", stale_then_real)
    loser = user_for_firebase_claims(claims_for("u1"))
    assert loser.pk == winner.pk
    assert len(reads) == 2
    assert FirebaseAccount.objects.count() == 1 and User.objects.count() == 1


@pytest.mark.django_db
def test_username_taken_by_another_user_gets_a_suffix(firebase, make_user):  # noqa: F811
    """A non-Firebase user already named firebase-<uid> does not block the Firebase user."""
    squatter = make_user("firebase-u1")
    user = user_for_firebase_claims(claims_for("u1"))
    assert user.pk != squatter.pk
    assert user.username.startswith("firebase-u1-")
    assert FirebaseAccount.objects.get(uid="u1").user == user


@pytest.mark.django_db
def test_user_payload_has_id_email_and_display_name(firebase):  # noqa: F811
    """auth_success's user object: id, email and the display name (username as a fallback)."""
    user = user_for_firebase_claims(claims_for("u1", "a@b.c", "Ana"))
    assert user_payload(user) == {"id": user.pk, "email": "a@b.c", "display_name": "Ana"}
    nameless = user_for_firebase_claims(claims_for("u2", None, None))
    assert user_payload(nameless)["display_name"] == "firebase-u2"


def test_auth_failed_frame(firebase):  # noqa: F811
    """AuthFailed renders the auth_error frame of PROTOCOL.md."""
    assert json.loads(auth_error_frame(AuthFailed("expired_token")).wire()) == {
        "type": "auth_error",
        "code": "expired_token",
        "message": firebase_module.MESSAGES["expired_token"],
    }


# --- async entry point --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_authenticate_token_returns_user_and_claims(firebase):  # noqa: F811
    """authenticate_token verifies the token and maps it to the Django user."""
    user, claims = await authenticate_token(firebase.token("u1", "a@b.c", "Ana"))
    assert claims.uid == "u1"
    assert (user.username, user.email) == ("firebase-u1", "a@b.c")


@pytest.mark.django_db(transaction=True)
async def test_authenticate_token_runs_off_the_event_loop(firebase, monkeypatch):  # noqa: F811
    """Verification and the ORM step both run in threads other than the event loop's."""
    loop_thread = threading.get_ident()
    threads: dict[str, int] = {}
    real_verify, real_map = (
        users_module.verify_firebase_token,
        users_module.user_for_firebase_claims,
    )

    def verify(token):
        threads["verify"] = threading.get_ident()
        return real_verify(token)

    def map_user(claims):
        threads["map"] = threading.get_ident()
        return real_map(claims)

    monkeypatch.setattr(users_module, "verify_firebase_token", verify)
    monkeypatch.setattr(users_module, "user_for_firebase_claims", map_user)
    await authenticate_token(firebase.token("u1"))
    assert threads["verify"] != loop_thread
    assert threads["map"] != loop_thread


@pytest.mark.django_db(transaction=True)
async def test_authenticate_token_raises_auth_failed(firebase):  # noqa: F811
    """A refused token surfaces as AuthFailed with its code from the async entry point."""
    with pytest.raises(AuthFailed) as caught:
        await authenticate_token(firebase.token("u1", aud="other-project"))
    assert caught.value.code == "invalid_token"
    assert await FirebaseAccount.objects.acount() == 0
