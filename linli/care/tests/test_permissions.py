"""Role × state matrix: every world user against every alert state and action, and
against the roster/visit/away permissions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import WORLD_USERS
from linli.care import permissions as p
from linli.care import services
from linli.care.models import Alert
from linli.care.rules import Point, Verdict
from linli.care.states import ALERT
from linli.care.tests.conftest import Care

pytestmark = pytest.mark.django_db

# Who is on the ladder of 张三's alert: the responsible grid worker, the volunteer pair
# (neighbour), the community's workers and secretary, the street officer, the admin.
LADDER = {"grid_worker", "neighbour", "worker", "secretary", "street_officer", "platform_admin"}
# Who may know the alert exists: the ladder plus the care team reading (same thing here).
SEES = LADDER

EXPECTED: dict[str, dict[str, set[str]]] = {
    # state → action → who may
    "open": {"acknowledge": LADDER, "resolve": LADDER, "release": set()},
    "acknowledged": {"acknowledge": set(), "resolve": LADDER, "release": set()},
    "held": {"acknowledge": set(), "resolve": LADDER, "release": LADDER},
    "resolved": {"acknowledge": set(), "resolve": set(), "release": set()},
}


def _alert(care: Care, status: str) -> Alert:
    now = timezone.now()
    a = services.raise_alert(
        device=care.sos,
        verdict=Verdict("sos", "x", [Point(1, now, 1, "sos")]),
        subject=care.subject,
        now=now,
    )
    assert a is not None
    Alert.objects.filter(pk=a.pk).update(
        status=status, outcome="fine" if status == "resolved" else ""
    )
    a.refresh_from_db()
    return a


@pytest.mark.parametrize("status", list(EXPECTED))
def test_alert_matrix(care: Care, status: str) -> None:
    alert = _alert(care, status)
    for who in WORLD_USERS:
        user = care.world.user(who)
        for action, allowed in EXPECTED[status].items():
            assert ALERT.can(user, alert, action) == (who in allowed), (status, action, who)
        # The system's own actions are never a person's.
        assert not ALERT.can(user, alert, "escalate")
    assert ALERT.can(None, alert, "escalate") == (status == "open")


def test_visibility_of_the_alert(care: Care) -> None:
    from linli.care.states import sees_alert

    alert = _alert(care, "open")
    for who in WORLD_USERS:
        assert sees_alert(care.world.user(who), alert) == (who in SEES), who


ROSTER: dict[str, set[str]] = {
    # permission → who holds it for 张三 (grid 1 of 阳光社区)
    "care.view_subject": {
        "grid_worker",
        "worker",
        "secretary",
        "street_officer",
        "platform_admin",
        "resident",
    },
    "care.record_visit": {"grid_worker", "worker", "secretary", "platform_admin"},
    "care.set_away": {"grid_worker", "worker", "secretary", "platform_admin", "resident"},
    "care.manage_roster": {"worker", "secretary", "platform_admin"},
}


@pytest.mark.parametrize("perm", list(ROSTER))
def test_roster_matrix(care: Care, perm: str) -> None:
    for who in WORLD_USERS:
        assert care.world.user(who).has_perm(perm, care.subject) == (who in ROSTER[perm]), (
            perm,
            who,
        )


def test_devices_and_events_for_managers_only(care: Care) -> None:
    community = care.world.community
    for who in WORLD_USERS:
        expected = who in {"worker", "secretary", "platform_admin"}
        assert bool(p.can_manage_devices(care.world.user(who), community)) == expected, who
        assert bool(p.can_declare_event(care.world.user(who), community)) == expected, who


def test_away_by_a_household_member(care: Care) -> None:
    """Family living in the same household may report the resident away."""
    from conftest import make_resident, make_user

    u = make_user("daughter")
    make_resident(care.subject.household, "张小红", user=u)
    services.away_set(actor=u, subject=care.subject, until=timezone.now() + timedelta(days=1))
