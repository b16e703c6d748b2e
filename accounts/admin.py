"""The Firebase accounts, read only: sign-in writes them."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from accounts.models import FirebaseAccount


@admin.register(FirebaseAccount)
class FirebaseAccountAdmin(admin.ModelAdmin):
    list_display = ("uid", "user", "created_at", "last_seen_at")
    search_fields = ("uid", "user__email", "user__username")
    list_select_related = ("user",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
