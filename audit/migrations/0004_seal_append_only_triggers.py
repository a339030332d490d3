"""Seals and checkpoints are as immutable as events: the same refusing function (migration
0002) on UPDATE, DELETE and TRUNCATE, fired ALWAYS so replication mode does not skip them."""

from django.db import migrations

TABLES = ("audit_seal", "audit_checkpoint")


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"""
            CREATE TRIGGER {table}_append_only
                BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
            CREATE TRIGGER {table}_no_truncate
                BEFORE TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
            ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_append_only;
            ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_truncate;
        """, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"""
            DROP TRIGGER IF EXISTS {table}_append_only ON {table};
            DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};
        """, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_sealing_and_studies")]
    operations = [migrations.RunPython(forward, backward)]
