"""Firebase ID token verification: `verify_firebase_token` and the `AuthFailed` it raises.

Every failure is an `AuthFailed` carrying the `auth_error` code (the WebSocket `auth_error`
frame, the HTTP API's 401/403) and a message that is safe to send and to log.

firebase-admin notes (DESIGN.md, "Sharp edges"): `verify_id_token` is synchronous and may fetch
Google's certificates over the network, so it runs in a worker thread. It needs credentials even
to verify; with only a project id the app is initialised with anonymous credentials. Revocation
checks (`FIREBASE_CHECK_REVOKED`) call the Identity Toolkit API and need real service-account
credentials (`FIREBASE_CREDENTIALS`). The token itself is never logged: some google-auth error
messages quote it, so those messages are redacted before they are logged.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import firebase_admin
import google.auth.credentials
from django.conf import settings
from firebase_admin import auth as firebase_auth
from firebase_admin import credentials as firebase_credentials
from firebase_admin import exceptions as firebase_exceptions

logger = logging.getLogger(__name__)

FIREBASE_APP_NAME = "lectern"
# Timeout of firebase-admin's own HTTP calls (certificate fetch, user lookup), in seconds.
FIREBASE_HTTP_TIMEOUT_SECONDS = 10
# Firebase ID tokens are about 1 KiB (custom claims are capped at 1000 bytes).
MAX_TOKEN_LENGTH = 16 * 1024

MESSAGES = {
    "invalid_token": "The token is not a valid Firebase ID token.",
    "expired_token": "The token has expired; get a fresh ID token and send `auth` again.",
    "revoked_token": "The token has been revoked; sign in again.",
    "user_disabled": "This account is disabled.",
}
NOT_CONFIGURED_MESSAGE = "Firebase sign-in is not configured on this server."
UNAVAILABLE_MESSAGE = "Token verification is temporarily unavailable; try again shortly."
UNKNOWN_USER_MESSAGE = "No Firebase account exists for this token; sign in again."


class AuthFailed(Exception):
    """A token or account the server refuses: the `auth_error` frame's code and message.

    `message` never contains the token. `retryable` is True when the same token may succeed later
    (verification was unavailable), False when the client needs a new token or another account.
    """

    def __init__(self, code: str, message: str | None = None, *, retryable: bool = False) -> None:
        self.code = code
        self.message = message or MESSAGES.get(code, MESSAGES["invalid_token"])
        self.retryable = retryable
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"AuthFailed(code={self.code!r}, message={self.message!r})"


@dataclass(frozen=True, slots=True)
class FirebaseClaims:
    """The verified claims the server uses."""

    uid: str
    email: str | None
    display_name: str | None
    email_verified: bool
    expires_at: datetime

    @classmethod
    def from_decoded(cls, decoded: dict[str, Any]) -> FirebaseClaims:
        email = decoded.get("email")
        name = decoded.get("name")
        return cls(
            uid=decoded["uid"],
            email=email if isinstance(email, str) and email else None,
            display_name=(name.strip() or None) if isinstance(name, str) else None,
            email_verified=decoded.get("email_verified") is True,
            expires_at=datetime.fromtimestamp(int(decoded["exp"]), tz=UTC),
        )

    @property
    def expired(self) -> bool:
        return datetime.now(tz=UTC) >= self.expires_at


# --- The firebase-admin app -----------------------------------------------------------------

_app_lock = threading.Lock()
_app: firebase_admin.App | None = None
_app_config: tuple[str, str] | None = None
_not_configured_logged = False


def _current_config() -> tuple[str, str]:
    return (settings.FIREBASE_PROJECT_ID or "", settings.FIREBASE_CREDENTIALS or "")


def _firebase_app() -> firebase_admin.App:
    """The lazily initialised app, re-created if the Firebase settings changed."""
    global _app, _app_config, _not_configured_logged
    config = _current_config()
    app = _app
    if app is not None and _app_config == config:
        return app
    with _app_lock:
        if _app is not None and _app_config == config:
            return _app
        _drop_app_locked()
        project_id, credentials_path = config
        if not project_id:
            if not _not_configured_logged:
                _not_configured_logged = True
                logger.error(
                    "FIREBASE_PROJECT_ID is not set: Firebase token sign-in is disabled and "
                    "every `auth` frame is refused."
                )
            raise AuthFailed("invalid_token", NOT_CONFIGURED_MESSAGE)
        credential: Any
        if credentials_path:
            try:
                credential = firebase_credentials.Certificate(credentials_path)
            except (OSError, ValueError) as error:
                # Not cached: every attempt retries (and logs), so a fixed file is picked up.
                logger.error("FIREBASE_CREDENTIALS (%s) is unusable: %s", credentials_path, error)
                raise AuthFailed("invalid_token", NOT_CONFIGURED_MESSAGE) from None
        else:
            # Verifying ID tokens needs only public certificates; anonymous credentials stop
            # firebase-admin from looking for Application Default Credentials.
            credential = google.auth.credentials.AnonymousCredentials()
            if settings.FIREBASE_CHECK_REVOKED:
                logger.error(
                    "FIREBASE_CHECK_REVOKED is on without FIREBASE_CREDENTIALS: the revocation "
                    "lookup (Identity Toolkit accounts:lookup) is sent without credentials; "
                    "if Google refuses it, every token is refused (fail closed)."
                )
        _app = firebase_admin.initialize_app(
            credential,
            {"projectId": project_id, "httpTimeout": FIREBASE_HTTP_TIMEOUT_SECONDS},
            name=FIREBASE_APP_NAME,
        )
        _app_config = config
        return _app


def _drop_app_locked() -> None:
    global _app, _app_config
    if _app is not None:
        firebase_admin.delete_app(_app)
    else:
        try:
            firebase_admin.delete_app(firebase_admin.get_app(FIREBASE_APP_NAME))
        except ValueError:
            pass
    _app = None
    _app_config = None


def reset_firebase_app() -> None:
    """Forget the app (and its certificate cache): for tests and settings changes."""
    global _not_configured_logged
    with _app_lock:
        _drop_app_locked()
        _not_configured_logged = False


# --- Verification -----------------------------------------------------------------------------


def _redact(text: str, token: str) -> str:
    """`text` without the token or any sizeable piece of it."""
    if not token:
        return text
    text = text.replace(token, "[token]")
    for part in token.split("."):
        if len(part) >= 8:
            text = text.replace(part, "[token part]")
    return text


def _log_rejection(level: int, code: str, error: BaseException, token: str) -> None:
    logger.log(
        level,
        "Firebase token rejected (%s): %s: %s",
        code,
        type(error).__name__,
        _redact(str(error), token)[:500],
    )


def verify_firebase_token(token: str) -> FirebaseClaims:
    """Verify a Firebase ID token with firebase-admin; raise `AuthFailed` if it is refused.

    Synchronous and possibly slow (certificate fetch, revocation lookup): call it off the loop.
    """
    if not isinstance(token, str) or not token.strip() or len(token) > MAX_TOKEN_LENGTH:
        raise AuthFailed("invalid_token")
    app = _firebase_app()
    try:
        decoded = firebase_auth.verify_id_token(
            token,
            app=app,
            check_revoked=settings.FIREBASE_CHECK_REVOKED,
            clock_skew_seconds=min(max(settings.FIREBASE_CLOCK_SKEW_SECONDS, 0), 60),
        )
    # Subclasses first: Revoked and Expired are InvalidIdTokenError subclasses.
    except firebase_auth.RevokedIdTokenError as error:
        _log_rejection(logging.INFO, "revoked_token", error, token)
        raise AuthFailed("revoked_token") from None
    except firebase_auth.ExpiredIdTokenError as error:
        _log_rejection(logging.DEBUG, "expired_token", error, token)
        raise AuthFailed("expired_token") from None
    except firebase_auth.UserDisabledError as error:
        _log_rejection(logging.INFO, "user_disabled", error, token)
        raise AuthFailed("user_disabled") from None
    except firebase_auth.InvalidIdTokenError as error:
        _log_rejection(logging.INFO, "invalid_token", error, token)
        raise AuthFailed("invalid_token") from None
    except firebase_auth.CertificateFetchError as error:
        # Fail closed: without Google's certificates nothing is accepted.
        _log_rejection(logging.ERROR, "invalid_token", error, token)
        raise AuthFailed("invalid_token", UNAVAILABLE_MESSAGE, retryable=True) from None
    except firebase_auth.UserNotFoundError as error:
        # Revocation check: the Firebase account was deleted since the token was minted.
        _log_rejection(logging.INFO, "invalid_token", error, token)
        raise AuthFailed("invalid_token", UNKNOWN_USER_MESSAGE) from None
    except ValueError as error:
        _log_rejection(logging.WARNING, "invalid_token", error, token)
        raise AuthFailed("invalid_token") from None
    except firebase_exceptions.FirebaseError as error:
        # The revocation lookup failed (network, quota, credentials): fail closed.
        _log_rejection(logging.ERROR, "invalid_token", error, token)
        raise AuthFailed("invalid_token", UNAVAILABLE_MESSAGE, retryable=True) from None
    except Exception as error:
        _log_rejection(logging.ERROR, "invalid_token", error, token)
        raise AuthFailed("invalid_token", UNAVAILABLE_MESSAGE, retryable=True) from None
    return FirebaseClaims.from_decoded(decoded)
