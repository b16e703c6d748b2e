"""The playground, and static files under DEBUG (daphne, unlike runserver, serves none)."""

from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.urls import path

from ai_chat import views

urlpatterns = [
    path("playground/", views.playground, name="playground"),
    path("events/", views.events, name="playground-events"),
    *staticfiles_urlpatterns(),
]
