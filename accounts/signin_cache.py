"""Who a session cookie or a Firebase uid signed in as, remembered for AUTH_CACHE_SECONDS.

After a deploy every client reconnects at once; without this, each handshake queues a session
read and a user read (or the uid -> user mapping) on the process's one database thread. The
cache is per process and short: it answers sockets opened again by the same session or uid
(tabs, reconnects, retries), never the checks that keep an open socket honest (the
AUTH_RECHECK_SECONDS recheck reads the database).

What it may serve stale, and for how long:
- On this process, nothing: saving or deleting a user (deactivated, password changed: a new
  session hash), signing out, and deleting a Firebase account forget that user's entries at
  once (signals).
- A change made by another process (signing out there, an admin deactivating the user) is seen
  by this process's new sockets within AUTH_CACHE_SECONDS; its open sockets are closed by the
  recheck within AUTH_RECHECK_SECONDS, as without the cache.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_delete, post_save

# Bounds the memory of a storm of distinct sessions: the oldest entries go first.
MAX_ENTRIES = 50_000


class SignInCache:
    """Keys (`("session", key)`, `("uid", uid)`) -> (user, extra), each for `ttl` seconds."""

    def __init__(self) -> None:
        self._entries: dict[Hashable, tuple[float, int, Any, Any]] = {}
        self._lock = threading.Lock()  # the loop reads; the database thread and signals write

    @staticmethod
    def ttl() -> float:
        return float(settings.AUTH_CACHE_SECONDS)

    def get(self, key: Hashable) -> tuple[Any, Any] | None:
        """The user (and what was stored with it) for `key`, if fresh."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, _user_id, user, extra = entry
        if time.monotonic() >= expires:
            with self._lock:
                if self._entries.get(key) is entry:
                    del self._entries[key]
            return None
        return user, extra

    def put(self, key: Hashable, user: Any, extra: Any = None) -> None:
        ttl = self.ttl()
        if ttl <= 0 or not user.is_active:
            return
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                for old in list(self._entries)[: MAX_ENTRIES // 10]:  # insertion order: oldest
                    del self._entries[old]
            self._entries[key] = (time.monotonic() + ttl, user.pk, user, extra)

    def forget_user(self, user_id: Any) -> None:
        """Drop every entry of this user (any key)."""
        with self._lock:
            stale = [key for key, entry in self._entries.items() if entry[1] == user_id]
            for key in stale:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


signin_cache = SignInCache()


def _forget_saved_user(sender: Any, instance: Any, **kwargs: Any) -> None:
    signin_cache.forget_user(instance.pk)


def _forget_account(sender: Any, instance: Any, **kwargs: Any) -> None:
    signin_cache.forget_user(instance.user_id)


def _forget_signed_out(sender: Any, user: Any = None, **kwargs: Any) -> None:
    if user is not None:
        signin_cache.forget_user(user.pk)


def connect_signals() -> None:
    """Called by the accounts app once the models are ready."""
    from accounts.models import FirebaseAccount

    user_model = get_user_model()
    post_save.connect(_forget_saved_user, sender=user_model, dispatch_uid="signin-cache-save")
    post_delete.connect(_forget_saved_user, sender=user_model, dispatch_uid="signin-cache-del")
    post_delete.connect(_forget_account, sender=FirebaseAccount, dispatch_uid="signin-cache-fb")
    user_logged_out.connect(_forget_signed_out, dispatch_uid="signin-cache-logout")
