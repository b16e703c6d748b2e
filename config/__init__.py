"""Lectern's project package. The Celery app loads with Django, so `shared_task` uses it."""

from config.celery import app as celery_app

__all__ = ("celery_app",)
