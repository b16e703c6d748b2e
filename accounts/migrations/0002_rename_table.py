"""The taken-over table gets this app's name."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.AlterModelTable(name="firebaseaccount", table=None)]
