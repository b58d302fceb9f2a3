"""Copy each child row's community from its parent (separate migration: on PostgreSQL
the updated rows' deferred FK checks must be flushed before the columns are altered)."""

from django.db import migrations
from django.db.models import OuterRef, Subquery

PARENTS = {"SignUp": ("Activity", "activity"), "VolunteerSkill": ("VolunteerProfile", "profile")}


def backfill(apps, schema_editor):
    for child, (parent, fk) in PARENTS.items():
        Child = apps.get_model("volunteers", child)
        Parent = apps.get_model("volunteers", parent)
        Child.objects.filter(community__isnull=True).update(
            community_id=Subquery(
                Parent.objects.filter(pk=OuterRef(f"{fk}_id")).values("community_id")[:1]
            )
        )


class Migration(migrations.Migration):
    dependencies = [("volunteers", "0003_child_community")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
