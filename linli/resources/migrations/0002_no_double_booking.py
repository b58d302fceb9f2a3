"""No double booking, enforced by the database.

PostgreSQL: an exclusion constraint — no two live bookings of the same resource (in the
same tenant) whose ``[starts_at, ends_at)`` ranges overlap. ``btree_gist`` lets the
equality on the integer columns share the GiST index with the range overlap. Two
concurrent inserts of overlapping bookings: the second waits for the first to commit,
then fails with an exclusion violation (the service turns it into a clear refusal).
The half-open range ``'[)'`` makes back-to-back bookings (10:00–11:00, 11:00–12:00)
touch without overlapping.

SQLite: a trigger before INSERT and before UPDATE raises when the new live row overlaps
another live row of the resource (``a.start < b.end AND b.start < a.end``). Writers are
serialised there (IMMEDIATE transactions), so the service's own check inside the
transaction and this trigger see the same state.

(Written as SQL guarded by vendor, not as a ``django.contrib.postgres`` constraint: that
would need the postgres app installed and a range field the SQLite schema cannot hold.)
The status list must equal ``models.LIVE_STATUSES`` (a test compares them).
"""

from django.db import migrations

LIVE = "('requested', 'confirmed', 'checked_out')"

PG_UP = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    "ALTER TABLE resources_booking ADD CONSTRAINT resources_booking_no_overlap "
    "EXCLUDE USING gist (community_id WITH =, resource_id WITH =, "
    "tstzrange(starts_at, ends_at, '[)') WITH &&) "
    f"WHERE (status IN {LIVE})",
]
PG_DOWN = ["ALTER TABLE resources_booking DROP CONSTRAINT IF EXISTS resources_booking_no_overlap"]

_SQLITE_CHECK = (
    "WHEN NEW.status IN {live} BEGIN SELECT RAISE(ABORT, 'resources_booking_no_overlap') "
    "WHERE EXISTS (SELECT 1 FROM resources_booking b WHERE b.resource_id = NEW.resource_id "
    "AND b.community_id = NEW.community_id AND b.id IS NOT NEW.id AND b.status IN {live} "
    "AND b.starts_at < NEW.ends_at AND NEW.starts_at < b.ends_at); END"
).format(live=LIVE)
SQLITE_UP = [
    "CREATE TRIGGER resources_booking_no_overlap_ins BEFORE INSERT ON resources_booking "
    + _SQLITE_CHECK,
    "CREATE TRIGGER resources_booking_no_overlap_upd BEFORE UPDATE ON resources_booking "
    + _SQLITE_CHECK,
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS resources_booking_no_overlap_ins",
    "DROP TRIGGER IF EXISTS resources_booking_no_overlap_upd",
]


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    sql = PG_UP if vendor == "postgresql" else SQLITE_UP if vendor == "sqlite" else []
    for statement in sql:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    sql = PG_DOWN if vendor == "postgresql" else SQLITE_DOWN if vendor == "sqlite" else []
    for statement in sql:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("resources", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
