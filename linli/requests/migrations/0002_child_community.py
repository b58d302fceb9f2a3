"""Tenancy: the request's children (timeline, photos, supports) carry the community,
copied from their request; the staff queue gets a partial index on open items."""

import django.db.models.deletion
import django.db.models.functions.comparison
import django.utils.timezone
from django.db import migrations, models

OPEN = ["accepted", "dispatched", "in_progress", "reopened", "submitted"]
CHILDREN = ("requests_requestevent", "requests_requestphoto", "requests_support")


def backfill(apps, schema_editor):
    conn = schema_editor.connection
    for table in CHILDREN:
        with conn.cursor() as cur:
            cur.execute(
                f"UPDATE {table} SET community_id = (SELECT r.community_id FROM "  # noqa: S608
                f"requests_servicerequest r WHERE r.id = {table}.request_id) "
                "WHERE community_id IS NULL"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("communities", "0001_initial"),
        ("requests", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="servicerequest",
            name="created_at",
            field=models.DateTimeField(
                db_index=True, default=django.utils.timezone.now, verbose_name="创建时间"
            ),
        ),
        *[
            migrations.AddField(
                model_name=model,
                name="community",
                field=models.ForeignKey(
                    null=True,
                    on_delete=django.db.models.deletion.PROTECT,
                    related_name="+",
                    to="communities.orgunit",
                ),
            )
            for model in ("requestevent", "requestphoto", "support")
        ],
        migrations.RunPython(backfill, migrations.RunPython.noop),
        *[
            migrations.AlterField(
                model_name=model,
                name="community",
                field=models.ForeignKey(
                    on_delete=django.db.models.deletion.PROTECT,
                    related_name="+",
                    to="communities.orgunit",
                ),
            )
            for model in ("requestevent", "requestphoto", "support")
        ],
        migrations.RemoveConstraint(model_name="support", name="support_once_per_user"),
        migrations.AddConstraint(
            model_name="support",
            constraint=models.UniqueConstraint(
                fields=("community", "request", "user"), name="support_once_per_user"
            ),
        ),
        migrations.AddIndex(
            model_name="requestevent",
            index=models.Index(
                fields=["community", "request", "at"], name="requests_re_communi_168ce4_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="servicerequest",
            index=models.Index(
                django.db.models.functions.comparison.Coalesce("next_due_at", "created_at"),
                "id",
                condition=models.Q(("status__in", OPEN)),
                name="request_open_queue",
            ),
        ),
        migrations.AddIndex(
            model_name="servicerequest",
            index=models.Index(
                "community",
                django.db.models.functions.comparison.Coalesce("next_due_at", "created_at"),
                "id",
                condition=models.Q(("status__in", OPEN)),
                name="request_open_queue_comm",
            ),
        ),
    ]
