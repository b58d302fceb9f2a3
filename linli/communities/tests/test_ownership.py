"""Ownership (产权): the staff service with its refusals, roster import of multi-unit
owners with the merge preview, export carrying ownership, the data migration, and the
role matrix of the staff correction."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from conftest import make_household, make_resident
from linli.communities.models import Household, Organisation, OutsideOwner, Ownership, Resident
from linli.communities.ownership import (
    OwnerSpec,
    outside_owner_get_or_create,
    ownership_set_unit,
    parse_share,
)
from linli.communities.roster import COLUMNS, roster_import
from linli.core.errors import NotFound, ValidationFailed
from linli.core.models import AuditEvent

HEADER = [h for _k, h, _e in COLUMNS]
X_ID = "110105195001010012"  # valid check digit
Y_ID = "11010519491231002X"  # the world's 张三


def _row(
    room: str, name: str, idn: str = "", *, owner: str = "", share: str = "", resides: str = ""
) -> list[str]:
    return [
        "第1网格", "7幢", "1", room, "100", "业主", name, "男", "1960", "户主", "",
        idn, "", "", owner, share, resides,
    ]  # fmt: skip


def _csv(rows: list[list[str]]) -> io.BytesIO:
    buf = io.StringIO()
    csv.writer(buf).writerows([HEADER, *rows])
    return io.BytesIO(buf.getvalue().encode("utf-8-sig"))


def _import(world: Any, rows: list[list[str]], **kw: Any) -> Any:
    return roster_import(
        actor=world.users["secretary"],
        community=world.community,
        upload=_csv(rows),
        filename="r.csv",
        **kw,
    )


def _owned(unit: Household) -> list[tuple[str, Decimal]]:
    return sorted(
        (o.owner_key, o.share) for o in Ownership.objects.filter(household=unit, until__isnull=True)
    )


# ------------------------------------------------------------------ the staff service


def test_set_unit_owners_replaces_them_with_history_and_an_audit_event(world):
    h = world.residents["resident"].household
    me = world.residents["resident"]
    spouse = make_resident(h, "张三妻")
    ownership_set_unit(
        actor=world.users["worker"], household=h, owners=[OwnerSpec(me)], since=date(2020, 1, 1)
    )
    ownership_set_unit(
        actor=world.users["secretary"],
        household=h,
        owners=[
            OwnerSpec(me, Decimal("0.5"), representative=True),
            OwnerSpec(spouse, Decimal("0.5")),
        ],
        since=date(2025, 6, 1),
        reason="婚后加名",
    )
    assert _owned(h) == [(f"r{me.pk}", Decimal("0.5")), (f"r{spouse.pk}", Decimal("0.5"))]
    ended = Ownership.objects.get(household=h, until__isnull=False)
    assert (ended.share, ended.until) == (Decimal("1"), date(2025, 6, 1))
    ev = AuditEvent.objects.filter(action="communities.ownership_set").order_by("id").last()
    assert ev is not None
    assert ev.payload["reason"] == "婚后加名" and len(ev.payload["after"]) == 2
    assert "张三" not in str(ev.payload)  # keys, never names, in the chain


@pytest.mark.parametrize(
    "shares,code",
    [
        (["0.5", "0.4"], "shares_do_not_add_up"),
        (["0.6", "0.6"], "shares_do_not_add_up"),
    ],
)
def test_co_owner_shares_must_add_up(world, shares, code):
    h = world.residents["resident"].household
    a, b = world.residents["resident"], make_resident(h, "张三妻")
    before = Ownership.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        ownership_set_unit(
            actor=world.users["secretary"],
            household=h,
            owners=[OwnerSpec(a, Decimal(shares[0])), OwnerSpec(b, Decimal(shares[1]))],
        )
    assert exc.value.code == code and "合计应为 1" in str(exc.value.message)
    assert Ownership.objects.count() == before


def test_same_owner_twice_on_a_unit_and_other_refusals(world):
    h = world.residents["resident"].household
    me = world.residents["resident"]
    cases = [
        ([OwnerSpec(me, Decimal("0.5")), OwnerSpec(me, Decimal("0.5"))], "duplicate_owner"),
        ([], "no_owner"),
        ([OwnerSpec(world.residents["stranger"])], "bad_owner"),  # another community
        ([OwnerSpec(me, developer_status="unsold")], "bad_owner"),
    ]
    for owners, code in cases:
        with pytest.raises(ValidationFailed) as exc:
            ownership_set_unit(actor=world.users["secretary"], household=h, owners=owners)
        assert exc.value.code == code
    assert not Ownership.objects.exists()
    assert not AuditEvent.objects.filter(action="communities.ownership_set").exists()


def test_share_parsing():
    assert parse_share("50%") == Decimal("0.5") and parse_share("1/4") == Decimal("0.25")
    for bad in ("0", "1.5", "abc", "1/3", ""):
        with pytest.raises(ValidationFailed):
            parse_share(bad)


ROLES_WHO_CORRECT = {"worker", "secretary", "platform_admin"}


@pytest.mark.parametrize(
    "who",
    [
        "resident", "neighbour", "stranger", "liaison", "grid_worker", "worker", "secretary",
        "other_secretary", "street_officer", "department", "property", "supervisor",
        "platform_admin",
    ],
)  # fmt: skip
def test_who_may_correct_ownership(world, who):
    h = world.residents["resident"].household
    me = world.residents["resident"]
    if who in ROLES_WHO_CORRECT:
        ownership_set_unit(actor=world.users[who], household=h, owners=[OwnerSpec(me)])
        assert _owned(h) == [(f"r{me.pk}", Decimal("1"))]
    else:
        with pytest.raises(NotFound):
            ownership_set_unit(actor=world.users[who], household=h, owners=[OwnerSpec(me)])
        assert not Ownership.objects.exists()


def test_outside_owner_is_one_record_per_id_number(world):
    a = outside_owner_get_or_create(
        actor=world.users["secretary"], community=world.community, name="房东周", id_number=X_ID
    )
    b = outside_owner_get_or_create(
        actor=world.users["secretary"], community=world.community, name="房东周", id_number=X_ID
    )
    assert a.pk == b.pk
    with pytest.raises(ValidationFailed):  # same ID, another name
        outside_owner_get_or_create(
            actor=world.users["secretary"], community=world.community, name="周某", id_number=X_ID
        )
    with pytest.raises(ValidationFailed):  # a resident's ID: choose the resident instead
        outside_owner_get_or_create(
            actor=world.users["secretary"], community=world.community, name="张三", id_number=Y_ID
        )


# ------------------------------------------------------------------ roster import


def test_same_id_on_three_units_is_one_owner_after_confirming_the_preview(world):
    rows = [
        _row("101", "钱多", X_ID, owner="是"),
        _row("102", "钱多", X_ID, owner="是", resides="否"),
        _row("103", "钱多", X_ID, owner="是"),
        _row("104", "孙甲", owner="是", share="0.5"),
        _row("104", "孙乙", owner="是", share="50%"),
    ]
    preview = _import(world, rows)
    assert preview.errors == [] and preview.needs_confirmation
    assert [(m.name, m.rows) for m in preview.merges] == [("钱多", (2, 3, 4))]
    assert "7幢1单元103" in preview.merges[0].units
    assert not Resident.objects.filter(name="钱多").exists()  # nothing written yet
    done = _import(world, rows, confirm_merges=True)
    assert (done.residents_created, done.ownerships_created) == (3, 5)
    qian = Resident.objects.get(name="钱多")
    assert qian.household.room == "101"
    assert sorted(o.household.room for o in Ownership.objects.filter(resident=qian)) == [
        "101",
        "102",
        "103",
    ]
    h104 = Household.objects.get(building__name="7幢", room="104")
    assert [s for _k, s in _owned(h104)] == [Decimal("0.5"), Decimal("0.5")]


def test_import_refuses_bad_ownership_rows_and_writes_nothing(world):
    before = (Resident.objects.count(), Ownership.objects.count())
    res = _import(
        world,
        [
            _row("201", "周一", owner="是", share="0.5"),
            _row("201", "周二", owner="是", share="0.3"),  # 0.8 in total
            _row("202", "吴一", X_ID, owner="是"),
            _row("202", "吴一", X_ID, owner="是", resides="否"),  # same ID on a unit twice
            _row("203", "郑一", X_ID, owner="是"),  # same ID, another name
            _row("204", "王二", owner="是", resides="否"),  # owner-only row without an ID
            _row("205", "冯一", owner="是"),
            _row("205", "冯二", owner="是"),  # co-owners without shares
        ],
    )
    messages = {(e.row, e.message) for e in res.errors}
    assert any(r == 2 and "合计应为 1" in m for r, m in messages)
    assert any(r == 5 and "同一户中该身份证号重复" in m for r, m in messages)
    assert any(r == 6 and "姓名不同" in m for r, m in messages)
    assert any(r == 7 and "须为产权人，并填写身份证号" in m for r, m in messages)
    assert any(r == 8 and "须填写产权份额" in m for r, m in messages)
    assert (Resident.objects.count(), Ownership.objects.count()) == before


def test_registered_person_owning_a_new_unit_is_merged_and_outside_owner_created(world):
    res = _import(
        world,
        [
            _row("301", "张三", Y_ID, owner="是", resides="否"),
            _row("302", "房东钱", X_ID, owner="是", resides="否"),
        ],
    )
    assert res.needs_confirmation and res.merges[0].existing
    done = _import(
        world,
        [
            _row("301", "张三", Y_ID, owner="是", resides="否"),
            _row("302", "房东钱", X_ID, owner="是", resides="否"),
        ],
        confirm_merges=True,
    )
    assert (done.residents_created, done.outside_owners_created) == (0, 1)
    me = world.residents["resident"]
    assert Ownership.objects.get(household__room="301").resident_id == me.pk
    assert Ownership.objects.get(household__room="302").outside_owner == OutsideOwner.objects.get()


def test_import_page_previews_merges_and_confirms_without_reupload(world):
    c = Client()
    c.force_login(world.users["secretary"])
    rows = [_row("101", "钱多", X_ID, owner="是"), _row("102", "钱多", X_ID, owner="是")]
    buf = io.StringIO()
    csv.writer(buf).writerows([HEADER, *rows])
    from django.core.files.uploadedfile import SimpleUploadedFile

    f = SimpleUploadedFile("r.csv", buf.getvalue().encode("utf-8-sig"), content_type="text/csv")
    page = c.post("/communities/import/", {"community": world.community.pk, "file": f})
    html = page.content.decode()
    assert "合并预览" in html and "钱多" in html and X_ID not in html  # ID masked
    assert not Resident.objects.filter(name="钱多").exists()
    token = html.split('name="token" value="')[1].split('"')[0]
    done = c.post("/communities/import/", {"token": token, "confirm": "1"}, follow=True)
    assert "登记产权 2 条" in done.content.decode()
    assert Ownership.objects.filter(resident__name="钱多").count() == 2
    # The same token cannot import twice.
    again = c.post("/communities/import/", {"token": token, "confirm": "1"})
    assert "预览已过期" in again.content.decode()


def test_export_carries_ownership_and_reimports_to_the_same_owners(world):
    dev = Organisation.objects.create(kind="developer", name="阳光置业", scope=world.district)
    dev.communities.set([world.community])
    me = world.residents["resident"]
    other = make_household(world.building, "188")
    ownership_set_unit(
        actor=world.users["secretary"], household=me.household, owners=[OwnerSpec(me)]
    )
    ownership_set_unit(actor=world.users["secretary"], household=other, owners=[OwnerSpec(me)])
    c = Client()
    c.force_login(world.users["secretary"])
    text = c.get(f"/communities/export/?community={world.community.pk}&format=csv").content
    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    assert rows[0] == HEADER
    mine = [r for r in rows if r[6] == "张三"]
    assert sorted((r[3], r[14], r[16]) for r in mine) == [("101", "是", "是"), ("188", "是", "否")]
    assert not any("阳光置业" in ",".join(r) for r in rows)


def test_data_migration_turns_owner_households_into_ownerships(world):
    from importlib import import_module

    from django.apps import apps

    mig = import_module("linli.communities.migrations.0004_ownership_from_households")
    spouse = make_resident(world.residents["resident"].household, "张三妻", relation="spouse")
    mig.forwards(apps, None)
    me = world.residents["resident"]
    assert _owned(me.household) == [(f"r{me.pk}", Decimal("1"))]  # the head, not the spouse
    assert not Ownership.objects.filter(resident=spouse).exists()
    # Tenant households get none; running it again adds nothing.
    assert not Ownership.objects.filter(household=world.residents["neighbour"].household).exists()
    n = Ownership.objects.count()
    mig.forwards(apps, None)
    assert Ownership.objects.count() == n


# ------------------------------------------------------------------ the correction page


def test_correction_page_sets_co_owners_and_refuses_bad_shares(world):
    h = world.residents["resident"].household
    me = world.residents["resident"]
    spouse = make_resident(h, "张三妻", id_number=X_ID)
    c = Client()
    c.force_login(world.users["worker"])
    url = f"/communities/households/{h.pk}/owners/"
    assert "尚未登记产权人" in c.get(url).content.decode()
    base = {"o-since": "2026-11-01", "o-reason": "不动产权证 浙(2026)001号"}
    bad = c.post(
        url,
        {
            **base,
            "o-owner_1": str(me.pk),
            "o-share_1": "0.5",
            "o-owner_2": X_ID,
            "o-share_2": "0.4",
        },
    )
    assert bad.status_code == 400 and "合计应为 1" in bad.content.decode()
    assert not Ownership.objects.exists()
    ok = c.post(
        url,
        {
            **base,
            "o-owner_1": str(me.pk),
            "o-share_1": "1/2",
            "o-owner_2": X_ID,
            "o-share_2": "50%",
            "o-representative": "2",
        },
    )
    assert ok.status_code == 302
    rep = Ownership.objects.get(household=h, is_representative=True)
    assert rep.resident_id == spouse.pk
    assert AuditEvent.objects.filter(action="communities.ownership_set").count() == 1
    # Outside owners are registered on the same page; others cannot reach it.
    c.post(url, {"action": "outside", "x-name": "房东周", "x-id_number": "", "x-phone": ""})
    assert OutsideOwner.objects.filter(name="房东周").exists()
    for who in ("resident", "grid_worker", "other_secretary"):
        c.force_login(world.users[who])
        assert c.get(url).status_code == 404


def test_resubmitted_forms_have_no_second_effect(world):
    h = world.residents["resident"].household
    me = world.residents["resident"]
    for _ in range(2):
        ownership_set_unit(actor=world.users["secretary"], household=h, owners=[OwnerSpec(me)])
    assert Ownership.objects.filter(household=h).count() == 1
    assert AuditEvent.objects.filter(action="communities.ownership_set").count() == 1
    a = outside_owner_get_or_create(
        actor=world.users["secretary"],
        community=world.community,
        name="房东吴",
        idempotency_key="k-1",
    )
    b = outside_owner_get_or_create(
        actor=world.users["secretary"],
        community=world.community,
        name="房东吴",
        idempotency_key="k-1",
    )
    assert a.pk == b.pk and OutsideOwner.objects.filter(name="房东吴").count() == 1
