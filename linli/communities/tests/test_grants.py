"""Sensitive-data grants need two people (issue 9, finding 8)."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.accounts.models import Membership, Role, SensitiveAccessGrant
from linli.accounts.services import sensitive_grant_create
from linli.communities.services import (
    sensitive_grant_approve,
    sensitive_grant_refuse,
    sensitive_read,
)
from linli.core.errors import NotFound, PermissionDenied, ValidationFailed
from linli.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _ask(world, actor="secretary", grantee="grid_worker", scope="contact"):  # type: ignore[no-untyped-def]
    return sensitive_grant_create(
        actor=world.user(actor),
        grantee=world.user(grantee),
        community=world.community,
        scope=scope,
        reason="入户走访联系",
        days=3,
    )


def test_self_grant_is_refused_and_changes_nothing(world) -> None:
    with pytest.raises(PermissionDenied):
        _ask(world, grantee="secretary", scope="identity")
    assert not SensitiveAccessGrant.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="sensitive.").exists()
    # Through the page as well.
    c = Client()
    c.force_login(world.user("secretary"))
    r = c.post(
        "/communities/grants/",
        {
            "community": world.community.pk,
            "grantee": world.user("secretary").pk,
            "scope": "identity",
            "reason": "核对身份信息",
            "days": 3,
        },
    )
    assert r.status_code == 400
    assert not SensitiveAccessGrant.objects.exists()


def test_single_person_grant_is_not_active_until_another_approves(world) -> None:
    gw = world.user("grid_worker")
    resident = world.residents["resident"]
    req = _ask(world)
    assert req.status == "pending"
    assert not SensitiveAccessGrant.objects.exists()
    with pytest.raises(PermissionDenied):
        sensitive_read(actor=gw, resident=resident, field="phone")
    # The requester cannot approve their own request, nor can the grantee.
    with pytest.raises(PermissionDenied):
        sensitive_grant_approve(actor=world.user("secretary"), request=req)
    with pytest.raises(NotFound):
        sensitive_grant_approve(actor=gw, request=req)
    # Nobody outside the community's chain may approve.
    for who in ("other_secretary", "other_street_officer", "worker"):
        with pytest.raises(NotFound):
            sensitive_grant_approve(actor=world.user(who), request=req)
    assert not SensitiveAccessGrant.objects.exists()
    grant = sensitive_grant_approve(actor=world.user("street_officer"), request=req)
    assert grant.is_current() and grant.granted_by_id == world.user("secretary").pk
    assert sensitive_read(actor=gw, resident=resident, field="phone") == "13812341234"
    actions = list(
        AuditEvent.objects.filter(action__startswith="sensitive.grant")
        .order_by("id")
        .values_list("action", "actor_id")
    )
    assert actions == [
        ("sensitive.grant_request", world.user("secretary").pk),
        ("sensitive.grant_approve", world.user("street_officer").pk),
    ]


def test_second_secretary_of_the_community_may_approve_and_refusal_opens_nothing(world) -> None:
    from conftest import make_user

    second = make_user("secretary2")
    Membership.objects.create(user=second, role=Role.SECRETARY, unit=world.community)
    world.users["secretary2"] = second
    refused = _ask(world, scope="medical")
    sensitive_grant_refuse(actor=second, request=refused, reason="理由不充分")
    refused.refresh_from_db()
    assert refused.status == "refused" and refused.grant_id is None
    assert AuditEvent.objects.filter(action="sensitive.grant_refuse", actor_id=second.pk).exists()
    with pytest.raises(PermissionDenied):
        sensitive_read(
            actor=world.user("grid_worker"), resident=world.residents["resident"], field="medical"
        )
    approved = _ask(world)
    assert sensitive_grant_approve(actor=second, request=approved).is_current()
    # A second secretary cannot be granted by the first and approve it themself.
    req = _ask(world, grantee="secretary2")
    with pytest.raises(PermissionDenied):
        sensitive_grant_approve(actor=second, request=req)


def test_grantee_must_be_staff_of_the_grantors_community(world) -> None:
    for outsider in ("other_grid_worker", "other_secretary", "resident", "property"):
        with pytest.raises(ValidationFailed):
            _ask(world, grantee=outsider)
    assert not AuditEvent.objects.filter(action__startswith="sensitive.").exists()


def test_grantee_list_is_scoped_to_own_community(world) -> None:
    c = Client()
    c.force_login(world.user("secretary"))
    r = c.get("/communities/grants/")
    assert r.status_code == 200
    choices = {str(pk) for pk, _label in r.context["form"].fields["grantee"].choices if pk}
    mine = {str(world.user(k).pk) for k in ("grid_worker", "grid2_worker", "worker")}
    assert mine <= choices
    for foreign in ("other_grid_worker", "other_secretary", "other_street_officer", "secretary"):
        assert str(world.user(foreign).pk) not in choices, foreign
    html = r.content.decode()
    assert "other_grid_worker" not in html and "other_secretary" not in html


def test_approver_page_lists_and_approves(world) -> None:
    req = _ask(world)
    c = Client()
    c.force_login(world.user("street_officer"))
    page = c.get("/communities/grants/").content.decode()
    assert f"/communities/grants/requests/{req.pk}/approve/" in page
    c.force_login(world.user("other_street_officer"))
    assert c.post(f"/communities/grants/requests/{req.pk}/approve/").status_code == 404
    c.force_login(world.user("street_officer"))
    assert c.post(f"/communities/grants/requests/{req.pk}/approve/").status_code == 302
    assert SensitiveAccessGrant.objects.get().grantee_id == world.user("grid_worker").pk
    c.force_login(world.user("secretary"))
    page = c.get("/communities/grants/").content.decode()
    assert f"/communities/grants/requests/{req.pk}/approve/" not in page
