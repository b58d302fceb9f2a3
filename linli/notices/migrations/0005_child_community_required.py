import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("notices", "0004_child_community_backfill")]

    operations = [
        migrations.AlterField(
            model_name="noticeread",
            name="community",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="communities.orgunit",
            ),
        ),
        migrations.AlterField(
            model_name="noticedelivery",
            name="community",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="communities.orgunit",
            ),
        ),
        migrations.RemoveConstraint(model_name="noticeread", name="notice_read_once"),
        migrations.AddConstraint(
            model_name="noticeread",
            constraint=models.UniqueConstraint(
                fields=("community", "notice", "user"), name="notice_read_once"
            ),
        ),
        migrations.RemoveConstraint(model_name="noticedelivery", name="notice_delivery_once"),
        migrations.AddConstraint(
            model_name="noticedelivery",
            constraint=models.UniqueConstraint(
                fields=("community", "notice", "channel"), name="notice_delivery_once"
            ),
        ),
    ]
