import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("volunteers", "0004_child_community_backfill")]

    operations = [
        migrations.AlterField(
            model_name="signup",
            name="community",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="communities.orgunit",
            ),
        ),
        migrations.AlterField(
            model_name="volunteerskill",
            name="community",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="communities.orgunit",
            ),
        ),
        migrations.RemoveConstraint(model_name="signup", name="signup_once_per_activity"),
        migrations.AddConstraint(
            model_name="signup",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "cancelled"), _negated=True),
                fields=("community", "activity", "resident"),
                name="signup_once_per_activity",
            ),
        ),
        migrations.RemoveConstraint(model_name="volunteerskill", name="volunteer_skill_once"),
        migrations.AddConstraint(
            model_name="volunteerskill",
            constraint=models.UniqueConstraint(
                fields=("community", "profile", "category"), name="volunteer_skill_once"
            ),
        ),
    ]
