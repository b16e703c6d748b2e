"""The four generation endpoints: each a declaration of its kind."""

from ai_chat.consumers.base import BaseAIConsumer


class CourseGenerationConsumer(BaseAIConsumer):
    kind = "course"


class LessonContentConsumer(BaseAIConsumer):
    kind = "lesson"


class QuizQuestionsConsumer(BaseAIConsumer):
    kind = "quiz"


class AssignmentQuestionsConsumer(BaseAIConsumer):
    kind = "assignment"
