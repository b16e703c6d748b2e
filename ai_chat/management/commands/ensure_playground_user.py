"""`manage.py ensure_playground_user`: a staff login for the playground on a fresh machine.

Only with DEBUG on, and only when no staff user exists: it creates `admin` with a random
password and prints it once. In production, create users with `createsuperuser`.
"""

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "With DEBUG on and no staff user, create one for the playground and print its password."

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        if not settings.DEBUG:
            self.stdout.write("DEBUG is off: not creating a playground user.")
            return
        staff = User.objects.filter(is_staff=True).order_by("pk").first()
        if staff is not None:
            self.stdout.write(
                f"Playground: sign in at /accounts/login/ as {staff.get_username()}. Forgot the "
                f"password? .venv/bin/python manage.py changepassword {staff.get_username()}"
            )
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username="admin", email="admin@localhost", password=password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Playground user created: sign in at /accounts/login/ as admin / {password}"
            )
        )
