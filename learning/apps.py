from django.apps import AppConfig


class LearningConfig(AppConfig):
    name = "learning"
    verbose_name = "Learning: enrollments, progress, confusion"

    def ready(self) -> None:
        """Publish lesson generation transitions to the lesson's and course's rooms."""
        from learning.lesson_events import lesson_generation_published
        from lessons.signals import lesson_generation_changed

        lesson_generation_changed.connect(
            lesson_generation_published, dispatch_uid="learning.lesson_generation_published"
        )
