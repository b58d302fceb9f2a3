"""Data migration: today's one-owner-per-unit representation becomes Ownership rows.

Until now an owner-occupied household (``tenure = owner``) *was* the owner: any adult
member could cast the unit's vote. Each such household gets one Ownership (share 1,
since the household was registered) held by its head (户主), or — without an active
head — by its oldest active member. A household without any active member keeps no
Ownership; owners' ballots treat it as before (see linli/voting/owners.py).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import migrations


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    Household = apps.get_model("communities", "Household")
    Resident = apps.get_model("communities", "Resident")
    Ownership = apps.get_model("communities", "Ownership")
    batch = []
    owned = Household.objects.filter(tenure="owner").exclude(
        pk__in=Ownership.objects.values("household_id")
    )
    for h in owned.iterator(chunk_size=2000):
        members = Resident.objects.filter(household_id=h.pk, is_active=True)
        owner = members.filter(relation="head").order_by("id").first() or members.order_by(
            "birth_year", "id"
        ).first()
        if owner is None:
            continue
        batch.append(
            Ownership(
                community_id=h.community_id,
                household_id=h.pk,
                resident_id=owner.pk,
                share=Decimal("1"),
                since=h.created_at.date(),
            )
        )
        if len(batch) >= 2000:
            Ownership.objects.bulk_create(batch)
            batch = []
    Ownership.objects.bulk_create(batch)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    # The households keep their tenure, so nothing is lost by dropping the rows.
    apps.get_model("communities", "Ownership").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("communities", "0003_ownership")]
    operations = [migrations.RunPython(forwards, backwards)]
