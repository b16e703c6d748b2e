"""FirebaseAccount moved to the `accounts` app: dropped from this app's state only.

The table is kept; `accounts.0001` takes it over, and `accounts.0002` renames it.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ai_chat", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="FirebaseAccount")],
            database_operations=[],
        )
    ]
