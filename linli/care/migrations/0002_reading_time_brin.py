"""Replace the B-tree on ``care_reading.at`` with a BRIN index on PostgreSQL (a plain
index on SQLite, which has no BRIN): see the comment on ``Reading.Meta``."""

from typing import Any

from django.db import migrations

INDEX = "care_reading_at"


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON care_reading USING brin (at) "
            "WITH (pages_per_range = 32)"
        )
    else:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON care_reading (at)")


def drop(apps: Any, schema_editor: Any) -> None:
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("care", "0001_initial")]

    operations = [
        migrations.RemoveIndex(model_name="reading", name=INDEX),
        migrations.RunPython(create, drop),
    ]
