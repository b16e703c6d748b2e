"""Kind `course`: a whole course outline, saved as a Course, its Modules and pending Lessons."""

from typing import Annotated, Any, Literal

from django.contrib.auth.models import AnonymousUser, User
from pydantic import Field

from ai_chat.kinds.base import ContextSchema, Kind, SavedObject, Schema, Target
from ai_chat.kinds.registry import register
from courses.selectors import course_get_editable
from lessons.outline import course_create_from_outline, course_update_from_outline
from sockets.errors import NotFound

Level = Literal["beginner", "intermediate", "advanced"]
Text = Annotated[str, Field(min_length=1, max_length=1000)]
AGE_RANGE = r"^\d{1,2}(-\d{1,2}|\+)$"


class CourseContext(ContextSchema):
    age_range: str | None = Field(default=None, pattern=AGE_RANGE, max_length=20)
    level: Level = "beginner"
    category: str = Field(default="", max_length=100)
    language: str = Field(
        default="en", pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", max_length=35
    )
    course_id: int | None = Field(default=None, ge=1)


class OutlineLesson(Schema):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    objectives: list[Text] = Field(default_factory=list, max_length=20)
    estimated_minutes: int = Field(ge=1, le=600)


class OutlineModule(Schema):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    lessons: list[OutlineLesson] = Field(min_length=1, max_length=30)


class CourseResult(Schema):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=5000)
    objectives: list[Text] = Field(min_length=1, max_length=20)
    prerequisites: list[Text] = Field(default_factory=list, max_length=20)
    age_range: str = Field(default="", max_length=20)
    level: Level
    category: str = Field(default="", max_length=100)
    modules: list[OutlineModule] = Field(min_length=1, max_length=30)


@register
class CourseKind(Kind):
    name = "course"
    path = "/ws/ai/course-generation/"
    order = 10
    object_types = ("course", "module", "lesson")
    example_prompt = "An introduction to Java for kids"
    example_context = {"age_range": "8-12", "level": "beginner", "category": "programming"}
    context_model = CourseContext
    result_model = CourseResult
    prompt_version = "course-2026-11-22"
    # The outline is saved as rows, so the prompt insists on the schema and on realistic sizes:
    # instructors revise far more than they start over, and short modules are easier to revise.
    instructions = (
        "You are an expert curriculum designer helping an instructor draft a course. "
        "Answer only with a JSON object matching the given schema: no prose, no markdown fence. "
        "Write for the learners' age range and level. Give 3 to 8 modules of 2 to 6 lessons; "
        "each lesson has a one-paragraph description, 2 to 4 measurable objectives and a "
        "realistic estimate in minutes. When asked to revise, return the whole revised course."
    )

    def resolve_target(self, *, user: User | AnonymousUser, context: ContextSchema) -> Target:
        assert isinstance(context, CourseContext)
        if context.course_id is None:
            return Target()
        course = course_get_editable(user=user, course_id=context.course_id)
        if course is None:
            raise NotFound("Course not found.")
        return Target(course)

    def build_prompt(self, *, content: str, context: ContextSchema, target: Target) -> str:
        assert isinstance(context, CourseContext)
        lines = [
            f"Request: {content}",
            f"Level: {context.level}",
            f"Learners' age range: {context.age_range or 'not given'}",
            f"Category: {context.category or 'not given'}",
            f"Write in language: {context.language}",
        ]
        course: Any = target.row
        if course is not None:
            modules = "; ".join(m.title for m in course.modules.all())
            lines.append(
                f"Revise the existing course '{course.title}' (modules: {modules or 'none'})."
            )
        return "\n".join(lines)

    def placeholder(self, *, prompt: str, context: dict[str, Any]) -> dict[str, Any]:
        topic = _topic(prompt)
        level = context.get("level", "beginner")
        modules = [
            {
                "title": f"Module {m + 1}: {topic} part {m + 1}",
                "description": f"Placeholder module {m + 1} about {topic}.",
                "lessons": [
                    {
                        "title": f"Lesson {m + 1}.{n + 1}: {topic}",
                        "description": f"Placeholder lesson {n + 1} of module {m + 1}.",
                        "objectives": [f"Explain idea {n + 1} of {topic}"],
                        "estimated_minutes": 20 + 5 * n,
                    }
                    for n in range(2)
                ],
            }
            for m in range(3)
        ]
        return {
            "title": f"[Placeholder] {topic}",
            "description": f"Offline placeholder course about {topic}. No model was involved.",
            "objectives": [f"Understand the basics of {topic}", f"Practise {topic}"],
            "prerequisites": [],
            "age_range": context.get("age_range") or "",
            "level": level,
            "category": context.get("category", ""),
            "modules": modules,
        }

    def save(
        self,
        *,
        user: User,
        data: dict[str, Any],
        context: ContextSchema,
        target: Target,
    ) -> list[SavedObject]:
        assert isinstance(context, CourseContext)
        course: Any = target.row
        if course is None:
            written = course_create_from_outline(
                owner=user, outline=data, language=context.language
            )
            created = True
        else:
            written = course_update_from_outline(course=course, outline=data)
            created = False
        objects = [SavedObject("course", written.course, created)]
        objects += [SavedObject("module", m, created) for m in written.modules]
        objects += [SavedObject("lesson", lesson, created) for lesson in written.lessons]
        return objects


def _topic(prompt: str) -> str:
    first_line = prompt.strip().splitlines()[0] if prompt.strip() else "the topic"
    return first_line.removeprefix("Request: ")[:80]
