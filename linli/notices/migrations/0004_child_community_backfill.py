"""Copy each child row's community from its notice (separate migration: on PostgreSQL
the updated rows' deferred FK checks must be flushed before the columns are altered)."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    Notice = apps.get_model("notices", "Notice")
    for child in ("NoticeRead", "NoticeDelivery"):
        Child = apps.get_model("notices", child)
        Child.objects.filter(community__isnull=True).update(
            community_id=Subquery(
                Notice.objects.filter(pk=OuterRef("notice_id")).values("community_id")[:1]
            )
        )


class Migration(migrations.Migration):
    dependencies = [("notices", "0003_child_community")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
