"""Create the role groups and the program's single row."""

from django.db import migrations

ROLES = ["tester", "moderator", "researcher", "program_admin"]


def forward(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    Program = apps.get_model("accounts", "Program")
    Program.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
