"""Operator endpoints: `/healthz` for load balancers, `/metrics` for Prometheus."""

from django.urls import path

from ops import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics, name="metrics"),
]
