"""Ledger entries are immutable at the database level, and on PostgreSQL every
transaction's entries must balance when the database transaction commits.

* UPDATE/DELETE on ledger_entry are refused by triggers (SQLite and PostgreSQL), so a
  correction can only be a new reversing transaction.
* PostgreSQL: a DEFERRABLE INITIALLY DEFERRED constraint trigger checks at COMMIT that
  credits equal debits for each transaction that received entries. SQLite has no
  deferred triggers; there the single posting path checks the balance in Python and
  ``ledger_recompute`` verifies it afterwards.
"""

from django.db import migrations

SQLITE_UP = [
    "CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE ON ledger_entry "
    "BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END;",
    "CREATE TRIGGER ledger_entry_no_delete BEFORE DELETE ON ledger_entry "
    "BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END;",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS ledger_entry_no_update;",
    "DROP TRIGGER IF EXISTS ledger_entry_no_delete;",
]
PG_UP = [
    """CREATE OR REPLACE FUNCTION ledger_entry_immutable() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION 'ledger entries are immutable'; END; $$ LANGUAGE plpgsql;""",
    "CREATE TRIGGER ledger_entry_no_change BEFORE UPDATE OR DELETE ON ledger_entry "
    "FOR EACH ROW EXECUTE FUNCTION ledger_entry_immutable();",
    """CREATE OR REPLACE FUNCTION ledger_entry_balanced() RETURNS trigger AS $$
    DECLARE s bigint;
    BEGIN
      SELECT COALESCE(SUM(CASE WHEN side = 'C' THEN amount ELSE -amount END), 0) INTO s
        FROM ledger_entry WHERE transaction_id = NEW.transaction_id;
      IF s <> 0 THEN
        RAISE EXCEPTION USING MESSAGE =
          'ledger transaction ' || NEW.transaction_id || ' is not balanced: ' || s;
      END IF;
      RETURN NULL;
    END; $$ LANGUAGE plpgsql;""",
    "CREATE CONSTRAINT TRIGGER ledger_entry_balanced AFTER INSERT ON ledger_entry "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_balanced();",
]
PG_DOWN = [
    "DROP TRIGGER IF EXISTS ledger_entry_balanced ON ledger_entry;",
    "DROP FUNCTION IF EXISTS ledger_entry_balanced();",
    "DROP TRIGGER IF EXISTS ledger_entry_no_change ON ledger_entry;",
    "DROP FUNCTION IF EXISTS ledger_entry_immutable();",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in SQLITE_UP if vendor == "sqlite" else PG_UP if vendor == "postgresql" else []:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in SQLITE_DOWN if vendor == "sqlite" else PG_DOWN if vendor == "postgresql" else []:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
