"""`/api/`: ninja's routes, then a JSON 404 for any other path under it."""

from django.urls import path, re_path

from api.site import api
from api.views import unknown_path

urlpatterns = [
    path("api/", api.urls),
    re_path(r"^api/", unknown_path),
]
