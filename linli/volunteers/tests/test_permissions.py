"""Role × state permission matrices for activities and sign-ups, driven off the
machines' tables: for every role of the world fixture (one user per Role, plus
other-community staff), every state and every action, the service accepts exactly when
``machine.can`` says so, and the activity page shows the button exactly then."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import WORLD_USERS
from linli.accounts.models import Role
from linli.core.errors import DomainError, InvalidTransition
from linli.volunteers import services
from linli.volunteers.models import Activity, ActivityStatus, SignUp, SignUpStatus
from linli.volunteers.states import ACTIVITY, SIGNUP, STATUS_ACTIONS

pytestmark = pytest.mark.django_db

USERS = list(WORLD_USERS)


def test_every_role_is_in_the_matrix(world: Any) -> None:
    from linli.accounts.models import Membership

    roles = set(Membership.objects.filter(user__username__in=USERS).values_list("role", flat=True))
    assert roles | {Role.PLATFORM_ADMIN} == set(Role.values)


def _activity(world: Any, status: str = ActivityStatus.OPEN, capacity: int = 5) -> Activity:
    now = timezone.now()
    return Activity.objects.create(
        community=world.community,
        kind="cleanup",
        title="楼道清洁",
        location="1幢",
        starts_at=now + timedelta(hours=1),
        ends_at=now + timedelta(hours=3),
        capacity=capacity,
        organiser=world.user("worker"),
        status=status,
    )


def _signup(world: Any, activity: Activity, status: str, who: str = "resident") -> SignUp:
    checked = status in (SignUpStatus.CHECKED_IN, SignUpStatus.COMPLETED)
    return SignUp.objects.create(
        community=world.community,
        activity=activity,
        resident=world.residents[who],
        status=status,
        checked_in_at=timezone.now() if checked else None,
    )


def _fresh(world: Any, key: str) -> Any:
    """The user as a new request would load it (no cached scope)."""
    return type(world.user(key)).objects.get(pk=world.user(key).pk)


def _run_signup_action(u: Any, s: SignUp, action: str) -> None:
    if action == "check_in":
        services.check_in(actor=u, signup=s)
    elif action == "self_check_in":
        services.check_in_by_token(actor=u, token=services.checkin_token(s.activity))
    elif action == "check_out":
        services.check_out(actor=u, signup=s)
    elif action == "cancel":
        services.signup_cancel(actor=u, signup=s)
    else:  # pragma: no cover - a new action needs a line here
        raise AssertionError(action)


SIGNUP_ACTIONS = ["check_in", "self_check_in", "check_out", "cancel"]
IDEMPOTENT = {"check_in", "self_check_in", "check_out"}


def test_tables_cover_the_services() -> None:
    assert set(SIGNUP.table) == {*SIGNUP_ACTIONS, "promote"}
    assert set(ACTIVITY.table) == {"sign_up", "sign_up_for", "close", "reopen", "cancel", "finish"}
    assert SIGNUP.states() == set(SignUpStatus.values)
    assert ACTIVITY.states() == set(ActivityStatus.values)


@pytest.mark.parametrize("key", USERS)
def test_signup_matrix(world: Any, key: str) -> None:
    for state in sorted(SIGNUP.states()):
        for action in SIGNUP_ACTIONS:
            a = _activity(world)
            s = SignUp.objects.select_related("activity").get(pk=_signup(world, a, state).pk)
            u = _fresh(world, key)
            expected = SIGNUP.can(u, s, action)
            refusal = SIGNUP.refusal(u, s, action)
            # A repeated check-in/out (already at its target) is a no-op success.
            repeat = (
                action in IDEMPOTENT
                and state == SIGNUP[action].target
                and isinstance(refusal, InvalidTransition)
            )
            try:
                _run_signup_action(u, s, action)
            except DomainError as exc:
                assert not expected, (key, state, action, exc)
                assert not repeat, (key, state, action, exc)
            else:
                assert expected or repeat, (key, state, action)
                s.refresh_from_db()
                target = SIGNUP[action].target
                assert s.status == target, (key, state, action)


@pytest.mark.parametrize("key", USERS)
def test_promote_is_the_systems(world: Any, key: str) -> None:
    a = _activity(world)
    s = SignUp.objects.select_related("activity").get(
        pk=_signup(world, a, SignUpStatus.WAITLISTED).pk
    )
    assert not SIGNUP.can(_fresh(world, key), s, "promote")
    assert SIGNUP.can(None, s, "promote")


def _run_activity_action(world: Any, u: Any, a: Activity, action: str) -> bool:
    """Run ``action`` through its service; False when the role has nobody to sign up."""
    if action == "sign_up":
        resident = getattr(u, "resident", None)
        if resident is None:
            return False
        services.signup(actor=u, activity=a, resident=resident)
    elif action == "sign_up_for":
        other = "resident" if u.username == "neighbour" else "neighbour"  # not oneself
        services.signup(actor=u, activity=a, resident=world.residents[other])
    elif action == "finish":
        services.activity_finish(actor=u, activity=a)
    else:
        status = next(st for st, act in STATUS_ACTIONS.items() if act == action)
        services.activity_set_status(actor=u, activity=a, status=status)
    return True


@pytest.mark.parametrize("key", USERS)
def test_activity_matrix(world: Any, key: str) -> None:
    for state in sorted(ACTIVITY.states()):
        for action in ACTIVITY.table:
            a = _activity(world, status=state)
            u = _fresh(world, key)
            expected = ACTIVITY.can(u, a, action)
            try:
                ran = _run_activity_action(world, u, a, action)
            except DomainError as exc:
                assert not expected, (key, state, action, exc)
                continue
            if not ran:
                assert not expected, (key, state, action)
                continue
            assert expected, (key, state, action)
            a.refresh_from_db()
            assert a.status == ACTIVITY[action].target
            if action in ("sign_up", "sign_up_for"):
                assert SignUp.objects.filter(activity=a).exists()


def _page(u: Any, a: Activity) -> str | None:
    c = Client()
    c.force_login(u)
    r = c.get(reverse("volunteers:activity_detail", args=[a.pk]))
    if r.status_code == 404:
        return None
    assert r.status_code == 200
    return r.content.decode()


@pytest.mark.parametrize("key", USERS)
def test_page_buttons_follow_the_machines(world: Any, key: str) -> None:
    u = _fresh(world, key)
    for state in sorted(ACTIVITY.states()):
        a = _activity(world, status=state)
        page = _page(u, a)
        if page is None:
            assert not any(ACTIVITY.can(u, a, act) for act in ACTIVITY.table)
            continue
        signup_form = reverse("volunteers:activity_signup", args=[a.pk])
        assert (signup_form in page) == ACTIVITY.can(u, a, "sign_up"), (key, state)
        finish = reverse("volunteers:activity_finish", args=[a.pk])
        assert (finish in page) == ACTIVITY.can(u, a, "finish"), (key, state)
        shown = set(re.findall(r'name="to" value="(\w+)"', page))
        offered = {st for st, act in STATUS_ACTIONS.items() if ACTIVITY.can(u, a, act)}
        assert shown == offered, (key, state)
    for state in sorted(SIGNUP.states()):
        a = _activity(world)
        s = SignUp.objects.select_related("activity").get(pk=_signup(world, a, state).pk)
        page = _page(u, a)
        if page is None:
            assert not any(SIGNUP.can(u, s, act) for act in SIGNUP.table)
            continue
        check = reverse("volunteers:signup_check", args=[s.pk])
        assert (f'{check}">' in page and 'value="in"' in page) == SIGNUP.can(u, s, "check_in"), (
            key,
            state,
        )
        assert ('value="out"' in page) == SIGNUP.can(u, s, "check_out"), (key, state)
        cancel = reverse("volunteers:signup_cancel", args=[s.pk])
        assert (cancel in page) == SIGNUP.can(u, s, "cancel"), (key, state)
