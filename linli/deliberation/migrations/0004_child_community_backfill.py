"""Copy each child row's community from its parent (separate migration: on PostgreSQL
the updated rows' deferred FK checks must be flushed before the columns are altered)."""

from django.db import migrations
from django.db.models import OuterRef, Subquery

# Child rows carry their tenant (ready to distribute by community): copied from the
# parent row, then made mandatory.
PARENTS = {
    "ActionUpdate": ("ActionItem", "item"),
    "AgendaItem": ("Meeting", "meeting"),
    "Attendance": ("Meeting", "meeting"),
    "CouncilMember": ("Council", "council"),
    "DeliberatorActivity": ("Deliberator", "deliberator"),
    "Objection": ("Topic", "topic"),
    "ReviewNote": ("Topic", "topic"),
    "SkillAssessment": ("Deliberator", "deliberator"),
    "TopicComment": ("Topic", "topic"),
    "TopicEvidence": ("Topic", "topic"),
    "TopicTransition": ("Topic", "topic"),
}


def backfill(apps, schema_editor):
    for child, (parent, fk) in PARENTS.items():
        Child = apps.get_model("deliberation", child)
        Parent = apps.get_model("deliberation", parent)
        Child.objects.filter(community__isnull=True).update(
            community_id=Subquery(
                Parent.objects.filter(pk=OuterRef(f"{fk}_id")).values("community_id")[:1]
            )
        )


class Migration(migrations.Migration):
    dependencies = [("deliberation", "0003_child_community")]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
