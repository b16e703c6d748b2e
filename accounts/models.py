"""Who signs in: the Firebase account behind a Django user."""

from django.conf import settings
from django.db import models


class FirebaseAccount(models.Model):
    """The one Django user a Firebase uid maps to."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="firebase_account"
    )
    uid = models.CharField(max_length=128, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Firebase account"

    def __str__(self) -> str:
        return self.uid
