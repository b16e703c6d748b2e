"""A partial index of the running generations (see AIMessage.Meta.indexes).

Built CONCURRENTLY on PostgreSQL, so that a deploy does not hold up every message write while it
reads a large message table; SQLite has no such option (and no such table)."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexOnline(AddIndexConcurrently):
    """Django's `AddIndexConcurrently` on PostgreSQL, a plain `AddIndex` elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(
            self, app_label, schema_editor, from_state, to_state
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(
            self, app_label, schema_editor, from_state, to_state
        )


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("ai_chat", "0008_conversation_summary_message_origin"),
    ]

    operations = [
        AddIndexOnline(
            model_name="aimessage",
            index=models.Index(
                condition=models.Q(("status", "streaming")),
                fields=["conversation"],
                name="ai_message_streaming",
            ),
        ),
    ]
