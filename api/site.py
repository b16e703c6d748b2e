"""The NinjaAPI: its auth, error answers and routers. A new group of routes is one router
module and one line in ROUTERS."""

from __future__ import annotations

from ninja import NinjaAPI

from api.auth import AUTH
from api.errors import install_handlers
from api.routers import classroom, conversations, courses, imports, jobs, lessons

ROUTERS = [
    courses.router,
    lessons.router,
    jobs.router,
    conversations.router,
    classroom.router,
    imports.router,
]

DESCRIPTION = (
    "JSON over HTTP for what is not a conversation: courses, lessons and their background "
    "generation. Sign in with `Authorization: Bearer <Firebase ID token>` or the session "
    "cookie (with `X-CSRFToken` on unsafe methods). Every error is "
    '`{"error": {"code", "message", "details"}}`. See docs/api.md.'
)

api = NinjaAPI(
    title="Lectern API",
    version="1",
    description=DESCRIPTION,
    auth=AUTH,
    urls_namespace="api",
)
install_handlers(api)
for router in ROUTERS:
    api.add_router("", router)
