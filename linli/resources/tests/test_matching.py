"""The resource provider for the needs–resources matching board (linli.mutualaid)."""

from __future__ import annotations

from typing import Any

import pytest

from linli.resources.tests.conftest import TOMORROW, at

pytestmark = pytest.mark.django_db


def test_resources_offered_for_borrowing_and_venues(
    world: Any, make_resource: Any, fixed_clock: Any
) -> None:
    providers = pytest.importorskip("linli.mutualaid.providers")
    from linli.resources import services

    assert "resource" in providers.providers()  # registered in ResourcesConfig.ready
    ladder = make_resource()
    room = make_resource(name="活动室", kind="venue")
    make_resource(name="会议室", kind="venue", bookable_by="staff")  # not for residents
    services.booking_create(
        actor=world.user("neighbour"),
        resource=ladder,
        starts_at=at(TOMORROW, 10),
        ends_at=at(TOMORROW, 11),
    )

    def ask(category: str, **kw: Any) -> list[Any]:
        q = providers.NeedQuery(
            need_id=None,
            community_id=world.community.pk,
            street_id=world.street.pk,
            category=category,
            **kw,
        )
        return list(providers.collect(q, only=["resource"]))

    tools = ask("borrow_tool", wanted_from=at(TOMORROW, 10), wanted_until=at(TOMORROW, 11))
    assert [(c.id, c.available) for c in tools] == [(ladder.pk, False)]
    later = ask("borrow_tool", wanted_from=at(TOMORROW, 11), wanted_until=at(TOMORROW, 12))
    assert [(c.id, c.available) for c in later] == [(ladder.pk, True)]
    assert [c.id for c in ask("venue")] == [room.pk]
    assert ask("plumbing") == []
