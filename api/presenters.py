"""Rows to the API's answer shapes: one place, so every route shows a thing the same way."""

from __future__ import annotations

from typing import Any

from courses.models import Course, Module
from lessons.models import Lesson, LessonSource


def lesson_summary(lesson: Lesson) -> dict[str, Any]:
    return {
        "id": lesson.pk,
        "title": lesson.title,
        "generation_status": lesson.generation_status,
        "generation_error": lesson.generation_error,
        "estimated_duration_minutes": lesson.estimated_minutes,
    }


def module_detail(module: Module) -> dict[str, Any]:
    """A module with its lessons (prefetched by the caller's selector)."""
    return {
        "id": module.pk,
        "title": module.title,
        "description": module.description,
        "position": module.position,
        "lessons": [lesson_summary(lesson) for lesson in module.lessons.all()],
    }


def course_summary(course: Course, *, role: str, counts: dict[str, int]) -> dict[str, Any]:
    return {
        "id": course.pk,
        "title": course.title,
        "description": course.description,
        "status": course.status,
        "role": role,
        "lesson_counts": counts,
        "created_at": course.created_at,
        "updated_at": course.updated_at,
    }


def course_detail(course: Course, *, role: str) -> dict[str, Any]:
    return {
        "id": course.pk,
        "title": course.title,
        "description": course.description,
        "status": course.status,
        "level": course.level,
        "role": role,
        "modules": [module_detail(module) for module in course.modules.all()],
        "created_at": course.created_at,
        "updated_at": course.updated_at,
    }


def source_out(source: LessonSource) -> dict[str, str]:
    return {
        "kind": source.kind,
        "title": source.title,
        "uri": source.uri,
        "path": source.path,
        "heading": source.heading,
        "commit": source.commit,
    }


def lesson_detail(
    lesson: Lesson, *, sources: list[dict[str, str]] | None = None, job_id: int | None = None
) -> dict[str, Any]:
    """`sources` default to the lesson's stored `LessonSource` rows."""
    if sources is None:
        sources = [source_out(source) for source in lesson.sources.all()]
    return {
        "id": lesson.pk,
        "course_id": lesson.course_id,
        "module_id": lesson.module_id,
        "title": lesson.title,
        "description": lesson.description,
        "objectives": lesson.objectives or [],
        "estimated_duration_minutes": lesson.estimated_minutes,
        "generation_status": lesson.generation_status,
        "generation_error": lesson.generation_error,
        "content": lesson.content if lesson.generation_status == "completed" else "",
        "sources": sources,
        "search_suggestions": lesson.search_suggestions,
        "job_id": job_id,
        "updated_at": lesson.updated_at,
    }
