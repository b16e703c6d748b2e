from django.apps import AppConfig


class LearningConfig(AppConfig):
    name = "learning"
    verbose_name = "Learning: enrollments, progress, confusion, questions"

    def ready(self) -> None:
        """Declare learning's rooms, actions and events on `/ws/events/`, publish lesson
        generation transitions to the lesson's and course's rooms, and tell a course's
        learners when it changes."""
        from courses.signals import course_changed
        from learning.course_notices import course_changed_notified
        from learning.lesson_events import lesson_generation_published
        from learning.rooms import learning_declare
        from lessons.signals import lesson_generation_changed

        learning_declare()
        lesson_generation_changed.connect(
            lesson_generation_published, dispatch_uid="learning.lesson_generation_published"
        )
        course_changed.connect(
            course_changed_notified, dispatch_uid="learning.course_changed_notified"
        )
