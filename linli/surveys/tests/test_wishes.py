from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from linli.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from linli.surveys import services
from linli.surveys.models import Wish, WishClaim

pytestmark = pytest.mark.django_db


def photo() -> SimpleUploadedFile:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (20, 20), (0, 128, 0)).save(buf, format="PNG")
    return SimpleUploadedFile("p.png", buf.getvalue(), content_type="image/png")


def volunteer(world: Any) -> Any:
    from linli.volunteers.models import VolunteerProfile

    VolunteerProfile.objects.create(
        community=world.community, resident=world.residents["neighbour"]
    )
    return world.users["neighbour"]


def published(world: Any) -> Wish:
    w = services.wish_post(
        actor=world.users["resident"],
        community=world.community,
        group="elderly",
        title="想要一件棉衣",
    )
    services.wish_publish(
        actor=world.users["worker"],
        wish=w,
        public_title="冬天的棉衣",
        public_text="一位老人想要棉衣",
    )
    return w


def test_full_flow_with_points(world: Any) -> None:
    from linli.ledger import services as ledger
    from linli.ledger.models import EarningClaim

    ledger.rule_save(
        actor=world.users["secretary"],
        community=world.community,
        kind="mutual_aid",
        amount=5,
        daily_cap=10,
        monthly_cap=60,
        approver_roles=["staff"],
    )
    vol = volunteer(world)
    w = published(world)
    services.wish_claim(actor=vol, wish=w)
    assert w.status == "claimed"
    services.wish_fulfil(actor=vol, wish=w, note="送到了", photo=photo())
    assert w.status == "fulfilled" and w.photo
    services.wish_confirm(actor=world.users["resident"], wish=w)
    w.refresh_from_db()
    assert w.status == "confirmed"
    assert w.points_awarded == 5
    assert EarningClaim.objects.filter(resident=world.residents["neighbour"]).count() == 1


def test_claiming_claimed_wish_refused(world: Any) -> None:
    vol = volunteer(world)
    w = published(world)
    services.wish_claim(actor=vol, wish=w)
    stale = Wish.objects.get(pk=w.pk)
    stale.status = "published"  # a second claimer's page still shows it open
    with pytest.raises(InvalidTransition) as e:
        services.wish_claim(actor=world.users["social_org"], wish=stale)
    assert "已认领" in str(e.value.message)
    assert WishClaim.objects.filter(wish=w, active=True).count() == 1
    assert Wish.objects.get(pk=w.pk).claimed_by_id == vol.pk


def test_database_holds_one_active_claim(world: Any) -> None:
    vol = volunteer(world)
    w = published(world)
    services.wish_claim(actor=vol, wish=w)
    with pytest.raises(IntegrityError), transaction.atomic():
        WishClaim.objects.create(
            community=world.community, wish=w, claimer=world.users["social_org"]
        )


def test_release_lets_another_claim(world: Any) -> None:
    vol = volunteer(world)
    w = published(world)
    services.wish_claim(actor=vol, wish=w)
    services.wish_release(actor=vol, wish=w)
    services.wish_claim(actor=world.users["social_org"], wish=w)
    assert WishClaim.objects.filter(wish=w).count() == 2


def test_wisher_cannot_claim_own_wish_and_outsider_cannot_see(world: Any) -> None:
    from linli.core.errors import NotFound

    w = published(world)
    with pytest.raises(PermissionDenied):
        services.wish_claim(actor=world.users["resident"], wish=w)
    with pytest.raises(NotFound):
        services.wish_claim(actor=world.users["stranger"], wish=w)


def test_publish_refuses_personal_details(world: Any) -> None:
    w = services.wish_post(
        actor=world.users["resident"], community=world.community, group="elderly", title="想要棉衣"
    )
    for text in ("张三想要棉衣", "1幢101室的老人", "电话13812341234"):
        with pytest.raises(ValidationFailed):
            services.wish_publish(
                actor=world.users["worker"], wish=w, public_title="棉衣", public_text=text
            )
    assert Wish.objects.get(pk=w.pk).status == "submitted"


def test_over_long_wish_refused(world: Any) -> None:
    with pytest.raises(ValidationFailed):
        services.wish_post(
            actor=world.users["resident"],
            community=world.community,
            group="elderly",
            title="长" * 61,
        )
    assert not Wish.objects.exists()


def test_proxy_wish_records_channel(world: Any) -> None:
    w = services.wish_post(
        actor=world.users["grid_worker"],
        community=world.community,
        group="elderly",
        title="想学用手机",
        resident=world.residents["resident"],
        channel="phone",
    )
    assert (w.channel, w.entered_by_id, w.wisher_id) == (
        "phone",
        world.users["grid_worker"].pk,
        world.residents["resident"].pk,
    )


def test_repeated_wishes_become_topic(world: Any) -> None:
    a = published(world)
    b = services.wish_post(
        actor=world.users["neighbour"],
        community=world.community,
        group="elderly",
        title="也想要棉衣",
    )
    topic = services.wishes_to_topic(
        actor=world.users["worker"],
        community=world.community,
        wishes=[a, b],
        title="为困难老人募集冬衣",
        description="多位老人在微心愿中提到需要冬衣，建议社区统一募集。",
    )
    assert topic.source == "wish"
    assert set(Wish.objects.filter(topic=topic).values_list("pk", flat=True)) == {a.pk, b.pk}
    with pytest.raises(PermissionDenied):
        services.wishes_to_topic(
            actor=world.users["resident"],
            community=world.community,
            wishes=[a, b],
            title="x" * 5,
            description="y" * 12,
        )
