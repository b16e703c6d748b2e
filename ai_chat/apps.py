from django.apps import AppConfig


class AiChatConfig(AppConfig):
    name = "ai_chat"
    verbose_name = "AI conversations"

    def ready(self) -> None:
        from ai_chat import (
            checks,  # noqa: F401  (registers the system checks)
            exceptions,  # noqa: F401  (registers the error codes)
        )
        from ai_chat.health import provider_check
        from ai_chat.kinds import KINDS, socket_kind_names
        from ai_chat.rooms import ai_chat_declare
        from ops import metrics
        from ops.health import register_check

        ai_chat_declare()

        # Metric labels of the registered kinds (each socket kind's endpoint is labelled by its
        # name); apps declaring kinds of their own declare their labels too.
        metrics.labels_declare(kinds=KINDS, endpoints=socket_kind_names())
        register_check("provider", provider_check)
