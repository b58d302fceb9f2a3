"""Ranking on hand-made cases, the distance table, and time-to-match."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from linli.mutualaid import distances, matching, selectors, services
from linli.mutualaid.models import BuildingDistance, Need
from linli.mutualaid.tests import factories as f

pytestmark = pytest.mark.django_db


def test_walking_distance_is_precomputed_per_street(world):
    far = f.far_building(world)
    n = distances.refresh_street(world.street.pk)
    assert n == 9  # 3 buildings with coordinates in the street, every ordered pair
    d = distances.distances_from(world.building.pk)
    assert d[world.building.pk] == 0
    assert 150 < d[world.building2.pk] < 200  # ~140 m straight, ×1.25
    assert d[far.pk] > 1000
    assert list(d)[0] == world.building.pk  # closest first
    assert not BuildingDistance.objects.filter(to_building=world.other_building).exists()


def test_skill_and_distance_rank_first(world):
    far = f.far_building(world)
    near_plumber = f.volunteer(world, "近", world.building, ["plumbing"])
    far_plumber = f.volunteer(world, "远", far, ["plumbing"])
    f.volunteer(world, "老师", world.building, ["teaching"])  # wrong skill: not suggested
    f.refresh(world)
    need = f.need(world)
    got = [s.candidate.extra["resident_id"] for s in matching.suggest(need)]
    assert got == [str(near_plumber.pk), str(far_plumber.pk)]
    top = matching.suggest(need)[0]
    assert top.metres == 0
    assert [r["code"] for r in top.reasons][:2] == ["skill", "same_building"]


def test_availability_and_ratings_break_ties(world):
    f.rules(world)
    wanted = timezone.make_aware(datetime(2026, 12, 5, 9, 0))  # a Saturday morning
    a = f.volunteer(world, "甲", world.building2, ["plumbing"], ["weekday_eve"])
    b = f.volunteer(world, "乙", world.building2, ["plumbing"], ["weekend_am"])
    f.refresh(world)
    need = f.need(world, wanted_from=wanted)
    ranked = matching.suggest(need)
    assert ranked[0].candidate.extra["resident_id"] == str(b.pk)
    assert "slot_fits" in [r["code"] for r in ranked[0].reasons]
    assert "slot_misfit" in [r["code"] for r in ranked[1].reasons]
    assert ranked[1].candidate.extra["resident_id"] == str(a.pk)


def test_past_rating_counts(world):
    f.rules(world)
    good = f.volunteer(world, "好评", world.building2, ["plumbing"])
    plain = f.volunteer(world, "新人", world.building2, ["plumbing"])
    f.refresh(world)
    first = f.need(world, title="第一次")
    c = next(s for s in matching.suggest(first) if s.candidate.extra["resident_id"] == str(good.pk))
    m = services.match_propose(
        actor=world.user("resident"), need=first, kind="volunteer", candidate_id=c.candidate.id
    )
    m = services.match_accept(actor=good.user, match=m)
    services.match_settle(actor=world.user("resident"), match=m, rating=5)
    second = f.need(world, title="第二次")
    ranked = matching.suggest(second)
    assert ranked[0].candidate.extra["resident_id"] == str(good.pk)
    assert {"code": "rated", "points": 15.0, "args": {"r": 5.0, "n": 1}} in ranked[0].reasons
    assert ranked[1].candidate.extra["resident_id"] == str(plain.pk)


def test_offers_partners_and_registered_providers(world):
    from linli.mutualaid.providers import Candidate, register_provider, unregister_provider

    p, member = f.partner(world)
    services.offering_save(
        actor=member, partner=p, kind="service", category="errand", title="送货上门"
    )
    services.offer_post(
        actor=world.user("neighbour"),
        resident=world.residents["neighbour"],
        category="errand",
        title="顺路代买",
    )

    def ladders(q):
        if q.category == "errand":
            yield Candidate(
                kind="resource",
                id=7,
                title="购物小推车",
                community_id=q.community_id,
                categories=("errand",),
                building_id=world.building.pk,
                available=True,
            )

    register_provider("test-resource", ladders)
    try:
        f.refresh(world)
        need = f.need(world, category="errand", title="代买米", settle_in="points")
        kinds = [s.candidate.kind for s in matching.suggest(need)]
        assert set(kinds) == {"offer", "partner_service", "resource"}
        # The requester's own offer is never suggested back to them.
        services.offer_post(
            actor=world.user("resident"),
            resident=world.residents["resident"],
            category="errand",
            title="我也能代买",
        )
        assert len(matching.suggest(need)) == 3
    finally:
        unregister_provider("test-resource")


def test_time_to_match_and_queue(world):
    f.rules(world)
    helper = f.volunteer(world, "赵六", world.building2, ["plumbing"])
    f.refresh(world)
    waiting = f.need(world, title="还在等")
    need = f.need(world, title="已匹配")
    Need.objects.filter(pk=need.pk).update(created_at=timezone.now() - timedelta(hours=10))
    need.refresh_from_db()
    c = matching.suggest(need)[0].candidate
    m = services.match_propose(
        actor=world.user("resident"), need=need, kind=c.kind, candidate_id=c.id
    )
    services.match_accept(actor=helper.user, match=m)
    rows = selectors.time_to_match(viewer=None, community_ids={world.community.pk})
    assert rows[0].matched == 1 and rows[0].still_open == 1
    assert 9.9 < (rows[0].median_hours or 0) < 10.1
    q = selectors.unmatched_for(viewer=world.user("grid_worker"))
    assert [w.need.pk for w in q] == [waiting.pk]
    assert selectors.unmatched_for(viewer=world.user("resident")) == []
    assert (
        selectors.time_to_match(
            viewer=world.user("other_secretary"), community_ids={world.community.pk}
        )
        == []
    )


def test_a_community_resource_is_accepted_by_staff(world):
    from linli.mutualaid.providers import Candidate, register_provider, unregister_provider

    def venues(q):
        if q.category == "venue":
            yield Candidate(
                kind="resource",
                id=3,
                title="活动室",
                community_id=q.community_id,
                categories=("venue",),
                building_id=world.building.pk,
            )

    register_provider("test-venue", venues)
    try:
        f.refresh(world)
        need = f.need(world, category="venue", title="借活动室开会", settle_in="none")
        m = services.match_propose(
            actor=world.user("resident"), need=need, kind="resource", candidate_id=3
        )
        m = services.match_accept(actor=world.user("worker"), match=m)
        assert m.status == "agreed"
        m = services.match_settle(actor=world.user("resident"), match=m)
        assert m.status == "settled" and m.settled_in == "none" and m.ledger_tx_id is None
    finally:
        unregister_provider("test-venue")
