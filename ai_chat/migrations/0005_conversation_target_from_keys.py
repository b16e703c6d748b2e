"""Copy each conversation's course/lesson/assignment key into its generic `target` (the most
specific one); backwards, fill the keys from the target again."""

from django.db import migrations, models

# Most specific first: an assignment conversation also named its lesson and course.
TARGETS = (("assignment", "assessments", "assignment"), ("lesson", "lessons", "lesson"),
           ("course", "courses", "course"))


def keys_to_target(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    AIConversation = apps.get_model("ai_chat", "AIConversation")
    for field, app_label, model in TARGETS:
        content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
        AIConversation.objects.filter(
            target_type__isnull=True, **{f"{field}__isnull": False}
        ).update(target_type=content_type, target_id=models.F(f"{field}_id"))


def target_to_keys(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    AIConversation = apps.get_model("ai_chat", "AIConversation")
    for conversation in AIConversation.objects.filter(target_type__isnull=False):
        content_type = ContentType.objects.get(pk=conversation.target_type_id)
        model = apps.get_model(content_type.app_label, content_type.model)
        row = model.objects.filter(pk=conversation.target_id).first()
        if row is None:
            continue
        keys = {"course": None, "lesson": None, "assignment": None}
        for field, _, name in TARGETS:
            if content_type.model == name:
                keys[field] = row.pk
        if content_type.model == "assignment":
            keys["lesson"], keys["course"] = row.lesson_id, row.course_id
        elif content_type.model == "lesson":
            keys["course"] = row.course_id
        AIConversation.objects.filter(pk=conversation.pk).update(
            **{f"{field}_id": pk for field, pk in keys.items()}
        )


class Migration(migrations.Migration):

    dependencies = [
        ("ai_chat", "0004_kinds_from_registry_generic_target"),
        ("assessments", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(keys_to_target, target_to_keys),
    ]
