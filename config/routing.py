"""WebSocket routes."""

from django.urls import path

from ai_chat.consumers.chat import ChatConsumer
from ai_chat.consumers.generation import (
    AssignmentQuestionsConsumer,
    CourseGenerationConsumer,
    LessonContentConsumer,
    QuizQuestionsConsumer,
)
from realtime.consumers import EventsConsumer

websocket_urlpatterns = [
    path("ws/ai/course-generation/", CourseGenerationConsumer.as_asgi()),
    path("ws/ai/lesson-content/", LessonContentConsumer.as_asgi()),
    path("ws/ai/quiz-questions/", QuizQuestionsConsumer.as_asgi()),
    path("ws/ai/assignment-questions/", AssignmentQuestionsConsumer.as_asgi()),
    path("ws/ai/chat/", ChatConsumer.as_asgi()),
    path("ws/events/", EventsConsumer.as_asgi()),
]
