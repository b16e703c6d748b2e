"""How people are named in rooms (presence) and in the payloads apps publish."""

from typing import Any

from django.contrib.auth import get_user_model


def display_name(user: Any) -> str:
    """How a user is shown to others (the same as `auth_success`'s display_name)."""
    return user.first_name or user.get_full_name() or user.get_username()


def user_names(user_ids: list[int]) -> dict[int, str]:
    """Display names by user id (ORM: call it off the event loop)."""
    users = get_user_model().objects.filter(pk__in=user_ids)
    return {user.pk: display_name(user) for user in users}
