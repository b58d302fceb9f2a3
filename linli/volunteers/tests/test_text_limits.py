"""Activity text typed by staff is refused when too long, never cut."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from linli.core.errors import ValidationFailed
from linli.volunteers import services
from linli.volunteers.models import Activity

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("title", "节" * 101, "活动名称最多100字"), ("location", "场" * 101, "活动地点最多100字")],
)
def test_too_long_activity_text_is_refused(
    world: Any, field: str, value: str, message: str
) -> None:
    now = timezone.now()
    data: dict[str, Any] = {"title": "邻里节", "location": "社区广场", field: value}
    with pytest.raises(ValidationFailed, match=message) as e:
        services.activity_create(
            actor=world.user("worker"),
            community=world.community,
            kind="festival",
            starts_at=now + timedelta(hours=1),
            ends_at=now + timedelta(hours=3),
            capacity=1,
            **data,
        )
    assert e.value.field == field
    assert not Activity.objects.exists()
