from django.apps import AppConfig


class LearningConfig(AppConfig):
    name = "learning"
    verbose_name = "Learning: enrollments, progress, confusion"

    def ready(self) -> None:
        """Declare learning's rooms, actions and events on `/ws/events/`, and publish lesson
        generation transitions to the lesson's and course's rooms."""
        from learning.lesson_events import lesson_generation_published
        from learning.rooms import learning_declare
        from lessons.signals import lesson_generation_changed

        learning_declare()
        lesson_generation_changed.connect(
            lesson_generation_published, dispatch_uid="learning.lesson_generation_published"
        )
