"""The Firebase user -> Django user mapping, and `authenticate_token` that sockets and the
HTTP API call: verify a token off the event loop, then find or create its one Django user."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.firebase import AuthFailed, FirebaseClaims, verify_firebase_token
from accounts.models import FirebaseAccount
from accounts.signin_cache import signin_cache

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser

logger = logging.getLogger(__name__)

# `last_seen_at` is written at most this often: not a write per connection and token refresh.
LAST_SEEN_RESOLUTION = timedelta(minutes=15)
USERNAME_PREFIX = "firebase-"


def _find_account(uid: str) -> FirebaseAccount | None:
    return FirebaseAccount.objects.select_related("user").filter(uid=uid).first()


def _username_for(uid: str, *, unique_suffix: bool = False) -> str:
    if unique_suffix:
        return f"{USERNAME_PREFIX}{uid[:120]}-{secrets.token_hex(6)}"
    return f"{USERNAME_PREFIX}{uid}"


def _profile_from_claims(claims: FirebaseClaims) -> dict[str, str]:
    """The user fields the claims set (absent claims leave the field as it is)."""
    User = get_user_model()
    fields: dict[str, str] = {}
    if claims.email and len(claims.email) <= 254:
        fields["email"] = User.objects.normalize_email(claims.email)
    if claims.display_name:
        fields["first_name"] = claims.display_name[:150]
    return fields


def _create_account(claims: FirebaseClaims, *, unique_suffix: bool = False) -> FirebaseAccount:
    User = get_user_model()
    with transaction.atomic():  # a savepoint: an IntegrityError leaves the outer block usable
        user = User.objects.create_user(  # type: ignore[attr-defined]
            username=_username_for(claims.uid, unique_suffix=unique_suffix),
            password=None,  # unusable: this user signs in through Firebase only
            **_profile_from_claims(claims),
        )
        return FirebaseAccount.objects.create(user=user, uid=claims.uid)


@transaction.atomic
def user_for_firebase_claims(claims: FirebaseClaims) -> AbstractUser:
    """The Django user of this Firebase uid: created on first sight, profile refreshed."""
    account = _find_account(claims.uid)
    if account is None:
        try:
            account = _create_account(claims)
            logger.info("Created Django user %s for a new Firebase account", account.user_id)
        except IntegrityError:
            # Another connection signed the same uid in first, or the username is taken.
            account = _find_account(claims.uid)
            if account is None:
                account = _create_account(claims, unique_suffix=True)
    user: AbstractUser = account.user  # type: ignore[assignment]
    if not user.is_active:
        raise AuthFailed("user_disabled")
    changed = []
    for field, value in _profile_from_claims(claims).items():
        if getattr(user, field) != value:
            setattr(user, field, value)
            changed.append(field)
    if changed:
        user.save(update_fields=changed)
    if account.last_seen_at < timezone.now() - LAST_SEEN_RESOLUTION:
        account.save(update_fields=["last_seen_at"])  # auto_now stamps it
    seen_at = account.last_seen_at
    transaction.on_commit(lambda: signin_cache.put(("uid", claims.uid), user, seen_at))
    return user


def _cached_user(claims: FirebaseClaims) -> AbstractUser | None:
    """The uid's user as signed in moments ago, when the database would say the same: same
    profile claims (nothing to update) and `last_seen_at` not due."""
    found = signin_cache.get(("uid", claims.uid))
    if found is None:
        return None
    user, seen_at = found
    if seen_at < timezone.now() - LAST_SEEN_RESOLUTION:
        return None
    if any(getattr(user, f) != v for f, v in _profile_from_claims(claims).items()):
        return None
    cached: AbstractUser = user
    return cached


async def authenticate_token(token: str) -> tuple[AbstractUser, FirebaseClaims]:
    """Verify `token` and map it to its Django user, both off the event loop (the mapping from
    the sign-in cache when the uid signed in moments ago on this process)."""
    claims = await sync_to_async(verify_firebase_token, thread_sensitive=False)(token)
    user = _cached_user(claims)
    if user is None:
        user = await database_sync_to_async(user_for_firebase_claims)(claims)
    return user, claims


def user_payload(user: AbstractUser) -> dict[str, Any]:
    """The `user` object of the `auth_success` frame."""
    return {
        "id": user.pk,
        "email": user.email,
        "display_name": user.first_name or user.get_full_name() or user.get_username(),
    }
