"""Entries carry their tenant (issue 8, part 4): ``community`` is copied from each
entry's transaction. Entries are immutable (migration 0002), so the backfill lifts the
refusal for the one UPDATE and puts it back in the same migration transaction."""

import django.db.models.deletion
from django.db import migrations, models

BACKFILL = (
    "UPDATE ledger_entry SET community_id = ("
    "SELECT t.community_id FROM ledger_ledgertransaction t WHERE t.id = ledger_entry.transaction_id"
    ") WHERE community_id IS NULL"
)


def backfill(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_no_change")
        schema_editor.execute(BACKFILL)
        schema_editor.execute("ALTER TABLE ledger_entry ENABLE TRIGGER ledger_entry_no_change")
        # Run the foreign-key checks the UPDATE queued now: PostgreSQL refuses the
        # ALTER TABLE below while deferred trigger events are pending.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS ledger_entry_no_update")
        schema_editor.execute(BACKFILL)
        schema_editor.execute(
            "CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE ON ledger_entry "
            "BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END;"
        )
    else:  # pragma: no cover - the project runs on SQLite or PostgreSQL
        schema_editor.execute(BACKFILL)


def restore_sqlite_triggers(apps, schema_editor):
    """SQLite rebuilds the table to make the column NOT NULL, which drops its triggers:
    put the immutability triggers of migration 0002 back."""
    if schema_editor.connection.vendor != "sqlite":
        return
    for sql in (
        "CREATE TRIGGER IF NOT EXISTS ledger_entry_no_update BEFORE UPDATE ON ledger_entry "
        "BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END;",
        "CREATE TRIGGER IF NOT EXISTS ledger_entry_no_delete BEFORE DELETE ON ledger_entry "
        "BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END;",
    ):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("communities", "0001_initial"),
        ("ledger", "0003_points_valid_months"),
    ]

    operations = [
        migrations.AddField(
            model_name="entry",
            name="community",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="communities.orgunit",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="entry",
            name="community",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="communities.orgunit",
            ),
        ),
        migrations.AddIndex(
            model_name="entry",
            index=models.Index(
                fields=["community", "account", "id"], name="ledger_entry_tenant_acct"
            ),
        ),
        migrations.RunPython(restore_sqlite_triggers, migrations.RunPython.noop),
    ]
