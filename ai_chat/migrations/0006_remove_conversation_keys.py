"""The course/lesson/assignment keys of a conversation are its generic `target` now."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("ai_chat", "0005_conversation_target_from_keys"),
    ]

    operations = [
        migrations.RemoveField(
            model_name='aiconversation',
            name='assignment',
        ),
        migrations.RemoveField(
            model_name='aiconversation',
            name='course',
        ),
        migrations.RemoveField(
            model_name='aiconversation',
            name='lesson',
        ),
    ]
