import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("deliberation", "0004_child_community_backfill")]

    operations = [
        migrations.AlterField(
            model_name="actionupdate",
            name="community",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="communities.orgunit",
            ),
        ),
        migrations.AlterField(
            model_name="agendaitem",
            name="community",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="communities.orgunit",
            ),
        ),
        migrations.AlterField(
            model_name="attendance",
            name="community",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="communities.orgunit",
            ),
        ),
        migrations.AlterField(
            model_name="councilmember",
            name="community",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="communities.orgunit",
            ),
        ),
        migrations.AlterField(
            model_name="deliberatoractivity",
            name="community",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="communities.orgunit",
            ),
        ),
        migrations.AlterField(
            model_name="objection",
            name="community",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="communities.orgunit",
            ),
        ),
        migrations.AlterField(
            model_name="reviewnote",
            name="community",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="communities.orgunit",
            ),
        ),
        migrations.AlterField(
            model_name="skillassessment",
            name="community",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="communities.orgunit",
            ),
        ),
        migrations.AlterField(
            model_name="topiccomment",
            name="community",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="communities.orgunit",
            ),
        ),
        migrations.AlterField(
            model_name="topicevidence",
            name="community",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="communities.orgunit",
            ),
        ),
        migrations.AlterField(
            model_name="topictransition",
            name="community",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="communities.orgunit",
            ),
        ),
        migrations.AddConstraint(
            model_name="agendaitem",
            constraint=models.UniqueConstraint(
                fields=("community", "meeting", "topic"), name="agenda_topic_once"
            ),
        ),
        migrations.AddConstraint(
            model_name="attendance",
            constraint=models.UniqueConstraint(
                fields=("community", "meeting", "member"), name="attendance_once"
            ),
        ),
        migrations.AddConstraint(
            model_name="councilmember",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_active", True), ("resident__isnull", False)),
                fields=("community", "council", "resident"),
                name="council_member_once",
            ),
        ),
        migrations.AddConstraint(
            model_name="deliberatoractivity",
            constraint=models.UniqueConstraint(
                condition=models.Q(("meeting__isnull", False)),
                fields=("community", "deliberator", "meeting"),
                name="deliberator_practice_meeting_once",
            ),
        ),
        migrations.AddConstraint(
            model_name="topicevidence",
            constraint=models.UniqueConstraint(
                fields=("community", "topic", "request"), name="topic_evidence_once"
            ),
        ),
    ]
