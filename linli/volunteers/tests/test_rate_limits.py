"""Finding 3 of issue 9: volunteer sign-ups are rate limited per user."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from linli.volunteers import services
from linli.volunteers.models import SignUp

pytestmark = pytest.mark.django_db


def test_signup_flood_gets_429(client: Any, world: Any, settings: Any) -> None:
    settings.LINLI_RATE_LIMITS = {"volunteers.signup": {"user": (2, None)}}
    now = timezone.now()
    acts = [
        services.activity_create(
            actor=world.user("worker"),
            community=world.community,
            kind="cleanup",
            title=f"楼道清洁{i}",
            location="1幢",
            starts_at=now + timedelta(hours=1),
            ends_at=now + timedelta(hours=3),
            capacity=5,
        )
        for i in range(3)
    ]
    client.force_login(world.user("resident"))
    for a in acts[:2]:
        assert client.post(f"/volunteers/{a.pk}/signup/").status_code == 302
    r = client.post(f"/volunteers/{acts[2].pk}/signup/")
    assert r.status_code == 429 and int(r["Retry-After"]) >= 1
    assert SignUp.objects.count() == 2
