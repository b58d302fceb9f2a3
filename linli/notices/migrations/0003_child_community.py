import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("communities", "0001_initial"),
        ("notices", "0002_notice_delivery"),
    ]

    operations = [
        migrations.AddField(
            model_name="noticeread",
            name="community",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="communities.orgunit",
            ),
        ),
        migrations.AddField(
            model_name="noticedelivery",
            name="community",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="communities.orgunit",
            ),
        ),
    ]
