"""Role × object matrix for roster visibility and sensitive data."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.accounts.services import sensitive_grant_create as _sensitive_grant_request
from linli.communities.permissions import can_edit_resident, can_view_resident
from linli.communities.selectors import resident_list_for
from linli.communities.services import sensitive_read
from linli.core.errors import NotFound, PermissionDenied
from linli.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def sensitive_grant_create(*, actor, **kw):  # type: ignore[no-untyped-def]
    """The old one-step grant, now through its two steps: the secretary asks and the
    street officer covering the community approves (issue 9, finding 8)."""
    from linli.communities.services import sensitive_grant_approve

    req = _sensitive_grant_request(actor=actor, **kw)
    world_street_officer = type(actor).objects.get(username="street_officer")
    return sensitive_grant_approve(actor=world_street_officer, request=req)


# who → (resident in grid 1 of 阳光社区, resident in grid 2, resident of the other street)
VIEW_MATRIX = {
    "resident": (True, False, False),  # only themselves (the grid-1 resident is "resident")
    "neighbour": (False, True, False),
    "liaison": (True, False, False),  # building 1 only
    "grid_worker": (True, False, False),
    "grid2_worker": (False, True, False),
    "other_grid_worker": (False, False, True),
    "worker": (True, True, False),
    "secretary": (True, True, False),
    "other_secretary": (False, False, True),
    "street_officer": (True, True, False),
    "other_street_officer": (False, False, True),
    "department": (False, False, False),
    "property": (False, False, False),
    "social_org": (False, False, False),
    "supervisor": (False, False, False),
    "platform_admin": (True, True, True),
}


@pytest.mark.parametrize("who", sorted(VIEW_MATRIX))
def test_view_matrix(world, who: str) -> None:
    targets = [
        world.residents["resident"],
        world.residents["neighbour"],
        world.residents["stranger"],
    ]
    user = world.user(who)
    expected = VIEW_MATRIX[who]
    assert tuple(bool(can_view_resident(user, t)) for t in targets) == expected
    listed = set(resident_list_for(viewer=user).values_list("pk", flat=True))
    assert tuple(t.pk in listed for t in targets) == expected


@pytest.mark.parametrize(
    "who,expected",
    [
        ("worker", True),
        ("secretary", True),
        ("grid_worker", False),
        ("street_officer", False),
        ("resident", False),
        ("other_secretary", False),
        ("property", False),
    ],
)
def test_edit_matrix(world, who: str, expected: bool) -> None:
    assert bool(can_edit_resident(world.user(who), world.residents["resident"])) is expected


def test_detail_page_of_foreign_resident_is_404_and_looks_like_missing(world) -> None:
    c = Client()
    c.force_login(world.user("grid_worker"))
    foreign = c.get(f"/communities/residents/{world.residents['stranger'].pk}/")
    missing = c.get("/communities/residents/999999/")
    assert foreign.status_code == missing.status_code == 404
    assert "找不到" in foreign.content.decode()
    ok = c.get(f"/communities/residents/{world.residents['resident'].pk}/")
    assert ok.status_code == 200


def test_lists_mask_phone_and_hide_sensitive_tags(world) -> None:
    c = Client()
    c.force_login(world.user("secretary"))
    html = c.get("/communities/residents/").content.decode()
    assert "138****1234" in html
    assert "13812341234" not in html
    detail = c.get(f"/communities/residents/{world.residents['resident'].pk}/").content.decode()
    assert "13812341234" not in detail and "110105********002X" in detail
    assert "残疾人" not in detail  # medical tag hidden


def test_sensitive_read_needs_a_grant_and_is_logged(world) -> None:
    resident = world.residents["resident"]
    gw = world.user("grid_worker")
    with pytest.raises(PermissionDenied):
        sensitive_read(actor=gw, resident=resident, field="phone")
    assert not AuditEvent.objects.filter(action="sensitive.read").exists()
    # Only the secretary of that community may grant.
    with pytest.raises(NotFound):
        sensitive_grant_create(
            actor=world.user("other_secretary"),
            grantee=gw,
            community=world.community,
            scope="contact",
            reason="入户走访联系",
            days=3,
        )
    sensitive_grant_create(
        actor=world.user("secretary"),
        grantee=gw,
        community=world.community,
        scope="contact",
        reason="入户走访联系",
        days=3,
    )
    assert sensitive_read(actor=gw, resident=resident, field="phone") == "13812341234"
    ev = AuditEvent.objects.get(action="sensitive.read")
    assert ev.actor_id == gw.pk and ev.payload["field"] == "phone"
    # The contact grant does not open medical data, nor another grid's residents.
    with pytest.raises(PermissionDenied):
        sensitive_read(actor=gw, resident=resident, field="medical")
    with pytest.raises(PermissionDenied):
        sensitive_read(actor=gw, resident=world.residents["neighbour"], field="phone")


def test_expired_or_revoked_grant_stops_access(world) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from linli.accounts.services import sensitive_grant_revoke

    gw = world.user("grid_worker")
    g = sensitive_grant_create(
        actor=world.user("secretary"),
        grantee=gw,
        community=world.community,
        scope="medical",
        reason="助残服务对接",
        days=1,
    )
    assert sensitive_read(actor=gw, resident=world.residents["resident"], field="medical") == [
        "disabled"
    ]
    sensitive_grant_revoke(actor=world.user("secretary"), grant=g)
    with pytest.raises(PermissionDenied):
        sensitive_read(actor=gw, resident=world.residents["resident"], field="medical")
    g2 = sensitive_grant_create(
        actor=world.user("secretary"),
        grantee=gw,
        community=world.community,
        scope="medical",
        reason="助残服务对接",
        days=1,
    )
    type(g2).objects.filter(pk=g2.pk).update(
        starts_at=timezone.now() - timedelta(days=3), expires_at=timezone.now() - timedelta(days=2)
    )
    with pytest.raises(PermissionDenied):
        sensitive_read(actor=gw, resident=world.residents["resident"], field="medical")


def test_reveal_page_flow(world) -> None:
    c = Client()
    c.force_login(world.user("grid_worker"))
    url = f"/communities/residents/{world.residents['resident'].pk}/reveal/"
    r = c.post(url, {"field": "phone"})
    assert r.status_code == 403 and "限时授权" in r.content.decode()
    sensitive_grant_create(
        actor=world.user("secretary"),
        grantee=world.user("grid_worker"),
        community=world.community,
        scope="contact",
        reason="入户走访联系",
        days=3,
    )
    r = c.post(url, {"field": "phone"})
    assert r.status_code == 200 and "13812341234" in r.content.decode()


def test_grant_page_only_for_secretary(world) -> None:
    c = Client()
    c.force_login(world.user("grid_worker"))
    assert c.get("/communities/grants/").status_code == 404
    c.force_login(world.user("secretary"))
    assert c.get("/communities/grants/").status_code == 200
    r = c.post(
        "/communities/grants/",
        {
            "community": world.community.pk,
            "grantee": world.user("grid_worker").pk,
            "scope": "contact",
            "reason": "短",
            "days": 3,
        },
    )
    assert r.status_code == 400 and "至少 4 个字" in r.content.decode()
    r = c.post(
        "/communities/grants/",
        {
            "community": world.community.pk,
            "grantee": world.user("grid_worker").pk,
            "scope": "contact",
            "reason": "入户走访联系",
            "days": 99,
        },
    )
    assert r.status_code == 400


def test_my_data_download_contains_reads_of_my_data(world) -> None:
    gw = world.user("grid_worker")
    sensitive_grant_create(
        actor=world.user("secretary"),
        grantee=gw,
        community=world.community,
        scope="identity",
        reason="核对身份信息",
        days=3,
    )
    sensitive_read(actor=gw, resident=world.residents["resident"], field="id_number")
    c = Client()
    c.force_login(world.user("resident"))
    r = c.get("/accounts/profile/my-data.json")
    data = r.json()
    assert data["resident"]["name"] == "张三"
    assert data["sensitive_reads"][0]["field"] == "id_number"


def test_privacy_settings_saved_and_audited(world) -> None:
    c = Client()
    c.force_login(world.user("resident"))
    r = c.post(
        "/accounts/profile/", {"phone_visibility": "neighbours", "skills_visibility": "public"}
    )
    assert r.status_code == 302
    world.residents["resident"].refresh_from_db()
    assert world.residents["resident"].privacy.phone_visibility == "neighbours"
    assert AuditEvent.objects.filter(action="privacy.update").count() == 1
    r = c.post(
        "/accounts/profile/", {"phone_visibility": "everyone", "skills_visibility": "public"}
    )
    assert r.status_code == 200
    world.residents["resident"].privacy.refresh_from_db()
    assert world.residents["resident"].privacy.phone_visibility == "neighbours"


@pytest.mark.parametrize(
    "who,import_page,export_link",
    [
        ("secretary", 200, True),
        ("worker", 200, True),
        ("grid_worker", 404, False),
        ("street_officer", 404, False),
        ("supervisor", 404, False),
        ("liaison", 404, False),
    ],
)
def test_import_and_export_offered_only_to_roster_managers(
    world, who: str, import_page: int, export_link: bool
) -> None:
    c = Client()
    c.force_login(world.user(who))
    assert c.get("/communities/import/").status_code == import_page
    html = c.get(f"/communities/residents/?community={world.community.pk}").content.decode()
    assert ("/communities/export/" in html) is export_link
    workbench = c.get("/workbench/").content.decode()
    assert ("/communities/import/" in workbench) is (import_page == 200)
