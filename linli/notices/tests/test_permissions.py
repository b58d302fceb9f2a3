"""Role × state permission matrix for notices, driven off the NOTICE table: for every
role of the world fixture, every state and every action, the service accepts exactly
when ``NOTICE.can`` says so, and the notice page shows the button exactly then."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import WORLD_USERS
from linli.accounts.models import Membership, Role
from linli.core.errors import DomainError
from linli.notices.models import Notice
from linli.notices.services import notice_publish, notice_withdraw
from linli.notices.states import NOTICE

pytestmark = pytest.mark.django_db

USERS = list(WORLD_USERS)


def test_every_role_and_state_is_covered(world: Any) -> None:
    roles = set(Membership.objects.filter(user__username__in=USERS).values_list("role", flat=True))
    assert roles | {Role.PLATFORM_ADMIN} == set(Role.values)
    assert NOTICE.states() == set(Notice.Status.values)
    assert set(NOTICE.table) == {"publish", "withdraw"}


def _notice(world: Any, status: str) -> Notice:
    return Notice.objects.create(
        community=world.community,
        title="停水通知",
        body="因管道检修停水。",
        summary="明天上午停水。",
        audience=Notice.Audience.COMMUNITY,
        channels=["web"],
        status=status,
        publish_at=None if status == Notice.Status.DRAFT else timezone.now(),
        created_by=world.user("secretary"),
    )


def _fresh(world: Any, key: str) -> Any:
    return type(world.user(key)).objects.get(pk=world.user(key).pk)


def _run(u: Any, n: Notice, action: str) -> None:
    if action == "publish":
        notice_publish(actor=u, notice=n)
    else:
        notice_withdraw(actor=u, notice=n, reason="内容有误")


@pytest.mark.parametrize("key", USERS)
def test_notice_matrix(world: Any, key: str) -> None:
    for state in sorted(NOTICE.states()):
        for action in NOTICE.table:
            n = Notice.objects.select_related("community").get(pk=_notice(world, state).pk)
            u = _fresh(world, key)
            expected = NOTICE.can(u, n, action)
            try:
                _run(u, n, action)
            except DomainError as exc:
                assert not expected, (key, state, action, exc)
            else:
                assert expected, (key, state, action)
                n.refresh_from_db()
                assert n.status == NOTICE[action].target


@pytest.mark.parametrize("key", USERS)
def test_page_buttons_follow_the_machine(world: Any, key: str) -> None:
    c = Client()
    c.force_login(world.user(key))
    for state in sorted(NOTICE.states()):
        n = Notice.objects.select_related("community").get(pk=_notice(world, state).pk)
        u = _fresh(world, key)
        r = c.get(reverse("notices:detail", args=[n.pk]))
        if r.status_code == 404:
            assert not any(NOTICE.can(u, n, a) for a in NOTICE.table), (key, state)
            continue
        page = r.content.decode()
        for action in NOTICE.table:
            url = reverse(f"notices:{action}", args=[n.pk])
            assert (url in page) == NOTICE.can(u, n, action), (key, state, action)
