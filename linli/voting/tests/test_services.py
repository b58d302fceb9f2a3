"""Voting through the real services: bad input refused with nothing changed, proxies,
paper votes, ratification, receipts, and the recount from the audit chain."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from conftest import make_household, make_resident, make_user
from linli.accounts.models import Membership, Role
from linli.core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from linli.core.models import AuditEvent
from linli.voting.models import Ballot, BallotVoter, BallotVoterUnit, ProxyGrant, Vote
from linli.voting.selectors import (
    ballot_result,
    counted_receipt_hashes,
    receipt_check,
    recount_from_audit,
    tally_verify,
    voter_status,
)
from linli.voting.services import (
    ballot_cancel,
    ballot_close,
    ballot_open,
    paper_vote_record,
    proxy_grant,
    proxy_revoke,
    ratification,
    receipt_hash,
    vote_cast,
)
from linli.voting.tests.conftest import expire, make_ballot


def _events(ballot: Ballot) -> int:
    return AuditEvent.objects.filter(target_type="voting.ballot", target_id=str(ballot.pk)).count()


def _owner(world: Any, room: str, area: str, name: str, *, tenure: str = "owner") -> Any:
    h = make_household(world.building, room, area=area, tenure=tenure)
    u = make_user(f"u{room}")
    r = make_resident(h, name, user=u)
    Membership.objects.create(user=u, role=Role.RESIDENT, unit=world.community)
    return u, r


# ------------------------------------------------------------------ bad input


def test_voting_twice_is_refused_and_changes_nothing(world, ballot):
    vote_cast(actor=world.users["resident"], ballot=ballot, choices=[0])
    before = _events(ballot)
    with pytest.raises(Conflict) as exc:
        vote_cast(actor=world.users["resident"], ballot=ballot, choices=[1])
    assert "已经投过票" in str(exc.value.message)
    assert Vote.objects.get(ballot=ballot).choices == [0]
    assert _events(ballot) == before


def test_database_refuses_a_second_vote_row_for_one_voter(world, ballot):
    vote_cast(actor=world.users["resident"], ballot=ballot, choices=[0])
    v = Vote.objects.get(ballot=ballot)
    with pytest.raises(IntegrityError), transaction.atomic():
        Vote.objects.create(
            ballot=ballot,
            community_id=ballot.community_id,
            voter_id=v.voter_id,
            choices=[1],
            channel="online",
            receipt_nonce="x",
            receipt_hash="y" * 64,
        )


def test_change_allowed_only_when_ballot_allows(world):
    b = make_ballot(world, allow_change=True)
    first = vote_cast(actor=world.users["resident"], ballot=b, choices=[0])
    second = vote_cast(actor=world.users["resident"], ballot=b, choices=[1])
    assert second.changed and Vote.objects.get(ballot=b).choices == [1]
    assert first.receipt != second.receipt
    assert not receipt_check(viewer=world.users["resident"], ballot=b, code=first.receipt).counted
    assert receipt_check(viewer=world.users["resident"], ballot=b, code=second.receipt).counted


def test_idempotent_retry_has_no_second_effect(world, ballot):
    a = vote_cast(actor=world.users["resident"], ballot=ballot, choices=[0], idempotency_key="k1")
    before = _events(ballot)
    b = vote_cast(actor=world.users["resident"], ballot=ballot, choices=[0], idempotency_key="k1")
    assert b.replayed and b.vote.pk == a.vote.pk and b.receipt == a.receipt
    assert _events(ballot) == before


def test_voting_after_close_is_refused(world, ballot):
    expire(ballot)
    with pytest.raises(Conflict) as exc:
        vote_cast(actor=world.users["resident"], ballot=ballot, choices=[0])
    assert "截止" in str(exc.value.message)
    ballot_close(actor=world.users["secretary"], ballot=ballot)
    ballot.refresh_from_db()
    with pytest.raises(Conflict) as exc:
        vote_cast(actor=world.users["resident"], ballot=ballot, choices=[0])
    assert "已结束" in str(exc.value.message)
    assert not Vote.objects.filter(ballot=ballot).exists()


def test_voting_before_open_is_refused(world):
    b = make_ballot(world, open_now=False)
    with pytest.raises(Conflict):
        vote_cast(actor=world.users["resident"], ballot=b, choices=[0])


def test_voting_without_eligibility_is_refused(world, ballot):
    # A resident of another community, and a staff member with no resident record.
    with pytest.raises(PermissionDenied) as exc:
        vote_cast(actor=world.users["stranger"], ballot=ballot, choices=[0])
    assert "名册" in str(exc.value.message)
    with pytest.raises(PermissionDenied):
        vote_cast(actor=world.users["secretary"], ballot=ballot, choices=[0])
    assert not Vote.objects.exists()


def test_resident_registered_after_opening_is_not_on_the_roll(world, ballot):
    u, _r = _owner(world, "303", "90.00", "新住户")
    with pytest.raises(PermissionDenied):
        vote_cast(actor=u, ballot=ballot, choices=[0])


def test_tenant_cannot_vote_on_owners_ballot(world):
    b = make_ballot(world, eligibility="owners", validity_rule="art278", matter_class="ordinary")
    with pytest.raises(PermissionDenied) as exc:
        vote_cast(actor=world.users["neighbour"], ballot=b, choices=[0])  # 李四 rents
    assert "仅限业主" in str(exc.value.message)
    assert not Vote.objects.filter(ballot=b).exists()


def test_bad_choices_are_refused(world, ballot):
    for bad in [[], [7], [0, 1], ["x"]]:
        with pytest.raises(ValidationFailed):
            vote_cast(actor=world.users["resident"], ballot=ballot, choices=bad)
    assert not Vote.objects.exists()


def test_multiple_choice_limit(world):
    b = make_ballot(
        world, kind="multiple", options=["健身器材", "儿童滑梯", "休息长椅"], max_choices=2
    )
    with pytest.raises(ValidationFailed):
        vote_cast(actor=world.users["resident"], ballot=b, choices=[0, 1, 2])
    vote_cast(actor=world.users["resident"], ballot=b, choices=[2, 0])
    assert Vote.objects.get(ballot=b).choices == [0, 2]


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"title": " "}, "title"),
        ({"kind": "single", "options": ["只有一个"]}, "options"),
        ({"kind": "single", "options": ["甲", "甲"]}, "options"),
        (
            {"validity_rule": "art278", "eligibility": "all_residents", "matter_class": "ordinary"},
            "eligibility",
        ),
        ({"validity_rule": "art278", "eligibility": "owners"}, "matter_class"),
        ({"eligibility": "custom"}, "voter_resident_ids"),
        ({"validity_rule": "members_two_thirds"}, "eligibility"),
        ({"closes_at": timezone.now() - timedelta(days=9)}, "closes_at"),
    ],
)
def test_ballot_create_rejects_bad_input(world, kw, field):
    with pytest.raises(ValidationFailed) as exc:
        make_ballot(world, open_now=False, **kw)
    assert exc.value.field == field
    assert not Ballot.objects.exists()


def test_custom_list_must_be_residents_of_the_community(world):
    with pytest.raises(ValidationFailed):
        make_ballot(
            world, eligibility="custom", voter_resident_ids=[world.residents["stranger"].pk]
        )


# ------------------------------------------------------------------ state machine


def test_state_machine(world):
    b = make_ballot(world, open_now=False)
    sec = world.users["secretary"]
    with pytest.raises(InvalidTransition):
        ballot_close(actor=sec, ballot=b)
    b = ballot_open(actor=sec, ballot=b)
    assert b.status == "open" and b.eligible_count == 2
    with pytest.raises(InvalidTransition):
        ballot_open(actor=sec, ballot=b)
    with pytest.raises(Conflict) as exc:  # before the closing time, not everyone voted
        ballot_close(actor=sec, ballot=b)
    assert "未到" in str(exc.value.message)
    expire(b)
    b = ballot_close(actor=sec, ballot=b)
    assert b.status == "closed"
    with pytest.raises(InvalidTransition):
        ballot_cancel(actor=sec, ballot=b, reason="试试")
    b2 = make_ballot(world, open_now=False)
    with pytest.raises(ValidationFailed):
        ballot_cancel(actor=sec, ballot=b2, reason="")
    assert ballot_cancel(actor=sec, ballot=b2, reason="议题撤回").status == "cancelled"


def test_close_early_when_everyone_voted(world, ballot):
    vote_cast(actor=world.users["resident"], ballot=ballot, choices=[0])
    vote_cast(actor=world.users["neighbour"], ballot=ballot, choices=[0])
    assert ballot_close(actor=world.users["secretary"], ballot=ballot).status == "closed"


def test_roll_is_frozen_at_opening(world):
    b = make_ballot(world, eligibility="owners", validity_rule="art278", matter_class="ordinary")
    # Owners' rolls list units under each owner entry (linli/voting/owners.py).
    rooms = BallotVoterUnit.objects.filter(ballot=b).values_list("household__room", flat=True)
    assert list(rooms) == ["101"]
    assert b.eligible_area == Decimal("80.00")


# ------------------------------------------------------------------ art. 278 end to end


def test_art278_exact_two_thirds_and_strict_half(world):
    # Owners: 101 (80 ㎡, 张三) plus two more at 80 ㎡ → three owners, 240 ㎡.
    u2, _ = _owner(world, "102", "80.00", "赵六")
    u3, _ = _owner(world, "103", "80.00", "钱七")
    b = make_ballot(world, eligibility="owners", validity_rule="art278", matter_class="ordinary")
    assert (b.eligible_count, b.eligible_area) == (3, Decimal("240.00"))
    vote_cast(actor=world.users["resident"], ballot=b, choices=[0])
    vote_cast(actor=u2, ballot=b, choices=[1])
    expire(b)
    b = ballot_close(actor=world.users["secretary"], ballot=b)
    res = ballot_result(viewer=world.users["resident"], ballot=b)
    # Exactly 2/3 of area and owners took part (以上 includes it); exactly 1/2 agreed
    # (过半数 does not).
    assert res.valid is True and res.passed is False
    assert "160.00㎡ / 240.00㎡" in res.explanation
    assert "2 / 3" in res.explanation and "1 / 2" in res.explanation
    assert "不满足" in res.explanation
    assert tally_verify(viewer=world.users["resident"], ballot=b).ok
    del u3


def test_art278_special_matter_needs_three_quarters(world):
    users = [world.users["resident"]]
    for i, room in enumerate(["102", "103", "104"]):
        users.append(_owner(world, room, "80.00", f"业主{i}")[0])
    b = make_ballot(
        world,
        eligibility="owners",
        validity_rule="art278",
        matter_class="special",
        title="使用公共维修资金改造外墙",
    )
    for u, c in zip(users, [0, 0, 0, 1], strict=True):
        vote_cast(actor=u, ballot=b, choices=[c])
    b = ballot_close(actor=world.users["secretary"], ballot=b)  # everyone voted
    res = ballot_result(viewer=world.users["resident"], ballot=b)
    assert res.valid and res.passed  # exactly 3/4 of area and owners: 以上 includes
    assert res.options[0].count == 3 and res.options[0].area == Decimal("240.00")


# ------------------------------------------------------------------ paper votes


def test_paper_vote_needs_two_different_staff_and_excludes_online(world, ballot):
    sec, worker = world.users["secretary"], world.users["worker"]
    r = world.residents["resident"]
    with pytest.raises(ValidationFailed):
        paper_vote_record(actor=sec, second_staff=sec, ballot=ballot, resident=r, choices=[0])
    with pytest.raises(PermissionDenied):
        paper_vote_record(
            actor=sec,
            second_staff=world.users["other_secretary"],
            ballot=ballot,
            resident=r,
            choices=[0],
        )
    with pytest.raises(PermissionDenied):
        paper_vote_record(
            actor=world.users["grid_worker"],
            second_staff=sec,
            ballot=ballot,
            resident=r,
            choices=[0],
        )
    res = paper_vote_record(actor=sec, second_staff=worker, ballot=ballot, resident=r, choices=[0])
    assert (res.vote.entered_by, res.vote.second_staff) == (sec, worker)
    ev = AuditEvent.objects.filter(action="voting.vote_cast").latest("id")
    assert ev.payload["entered_by"] == sec.pk and ev.payload["second_staff"] == worker.pk
    with pytest.raises(Conflict) as exc:
        vote_cast(actor=world.users["resident"], ballot=ballot, choices=[1])
    assert "纸质" in str(exc.value.message)
    vote_cast(actor=world.users["neighbour"], ballot=ballot, choices=[1])
    with pytest.raises(Conflict) as exc:
        paper_vote_record(
            actor=sec,
            second_staff=worker,
            ballot=ballot,
            resident=world.residents["neighbour"],
            choices=[0],
        )
    assert "线上" in str(exc.value.message)
    assert Vote.objects.filter(ballot=ballot).count() == 2


# ------------------------------------------------------------------ proxies


def _two_more(world: Any) -> tuple[Any, Any, Any, Any]:
    u2, r2 = _owner(world, "102", "80.00", "赵六")
    u3, r3 = _owner(world, "103", "80.00", "钱七")
    return u2, r2, u3, r3


def test_proxy_vote_and_revoke_withdraws_it(world):
    u2, r2, u3, r3 = _two_more(world)
    b = make_ballot(world)
    me = world.residents["resident"]
    g = proxy_grant(
        actor=world.users["worker"],
        ballot=b,
        principal=me,
        agent=r2,
        mandate_text="本人委托赵六代为表决加装电梯事项。张三 2026-05-01",
    )
    with pytest.raises(Conflict):  # the principal delegated; cannot vote in person
        vote_cast(actor=world.users["resident"], ballot=b, choices=[1])
    vote_cast(actor=u2, ballot=b, choices=[0], on_behalf_of=me)
    vote_cast(actor=u2, ballot=b, choices=[1])  # the agent's own vote is separate
    assert Vote.objects.filter(ballot=b).count() == 2
    with pytest.raises(PermissionDenied):
        vote_cast(actor=u3, ballot=b, choices=[0], on_behalf_of=me)
    proxy_revoke(actor=world.users["resident"], proxy=g)
    assert Vote.objects.filter(ballot=b).count() == 1
    with pytest.raises(PermissionDenied):
        vote_cast(actor=u2, ballot=b, choices=[0], on_behalf_of=me)
    vote_cast(actor=world.users["resident"], ballot=b, choices=[1])
    expire(b)
    b = ballot_close(actor=world.users["secretary"], ballot=b)
    v = tally_verify(viewer=world.users["secretary"], ballot=b)
    assert v.ok, v.differences
    assert v.replayed.participants == 2


def test_self_proxy_is_refused(world, ballot):
    me = world.residents["resident"]
    with pytest.raises(ValidationFailed) as exc:
        proxy_grant(
            actor=world.users["resident"],
            ballot=ballot,
            principal=me,
            agent=me,
            mandate_text="委托自己",
        )
    assert "自己" in str(exc.value.message)
    assert not ProxyGrant.objects.exists()


def test_household_member_proxy_is_refused_on_household_ballot(world):
    # One vote per household: any adult member casts it, so a proxy is pointless.
    # (On owners' ballots a family member who is not an owner needs one: see
    # test_owners.py.)
    b = make_ballot(world, eligibility="households", validity_rule="households_75")
    me = world.residents["resident"]
    spouse = make_resident(me.household, "张三妻")
    with pytest.raises(ValidationFailed):
        proxy_grant(
            actor=world.users["worker"],
            ballot=b,
            principal=me,
            agent=spouse,
            mandate_text="委托配偶",
        )


def test_chained_proxy_and_proxy_for_a_proxy_are_refused(world):
    u2, r2, u3, r3 = _two_more(world)
    b = make_ballot(world)
    me = world.residents["resident"]
    proxy_grant(
        actor=world.users["worker"], ballot=b, principal=me, agent=r2, mandate_text="委托赵六"
    )
    # r2 holds my proxy → r2 cannot pass it (or their own) on: proxy for a proxy.
    with pytest.raises(ValidationFailed) as exc:
        proxy_grant(
            actor=world.users["worker"],
            ballot=b,
            principal=r2,
            agent=r3,
            mandate_text="赵六再委托钱七",
        )
    assert "转委托" in str(exc.value.message)
    # r3 delegates to … me? I have delegated my own vote → agent who delegated: chain.
    with pytest.raises(ValidationFailed) as exc:
        proxy_grant(
            actor=world.users["worker"],
            ballot=b,
            principal=r3,
            agent=me,
            mandate_text="钱七委托张三",
        )
    assert "委托链" in str(exc.value.message)
    # A second live proxy for the same principal.
    with pytest.raises(Conflict):
        proxy_grant(
            actor=world.users["worker"], ballot=b, principal=me, agent=r3, mandate_text="再委托钱七"
        )
    assert ProxyGrant.objects.filter(revoked_at__isnull=True).count() == 1


def test_proxy_needs_mandate_and_cannot_be_revoked_after_close(world):
    u2, r2, *_ = _two_more(world)
    b = make_ballot(world)
    me = world.residents["resident"]
    with pytest.raises(ValidationFailed):
        proxy_grant(actor=world.users["worker"], ballot=b, principal=me, agent=r2, mandate_text=" ")
    with pytest.raises(PermissionDenied):  # a neighbour cannot record my proxy
        proxy_grant(actor=u2, ballot=b, principal=me, agent=r2, mandate_text="冒名委托")
    g = proxy_grant(
        actor=world.users["worker"], ballot=b, principal=me, agent=r2, mandate_text="委托"
    )
    expire(b)
    with pytest.raises(Conflict):
        proxy_revoke(actor=world.users["resident"], proxy=g)
    g.refresh_from_db()
    assert g.revoked_at is None


# ------------------------------------------------------------------ ratification


def test_ratification_within_window_only(world):
    b = make_ballot(world, ratification_days=15)
    vote_cast(actor=world.users["resident"], ballot=b, choices=[0])
    with pytest.raises(Conflict):  # not before close
        ratification(
            actor=world.users["neighbour"],
            ballot=b,
            resident=world.residents["neighbour"],
            choices=[0],
        )
    expire(b)
    b = ballot_close(actor=world.users["secretary"], ballot=b)
    with pytest.raises(ValidationFailed):  # staff need the written statement
        ratification(
            actor=world.users["worker"],
            ballot=b,
            resident=world.residents["neighbour"],
            choices=[0],
        )
    r = ratification(
        actor=world.users["neighbour"], ballot=b, resident=world.residents["neighbour"], choices=[0]
    )
    assert r.vote.channel == "ratification"
    with pytest.raises(Conflict):
        ratification(
            actor=world.users["resident"],
            ballot=b,
            resident=world.residents["resident"],
            choices=[0],
        )
    res = ballot_result(viewer=world.users["resident"], ballot=b)
    assert res.participants == 2 and res.by_channel == {"online": 1, "ratification": 1}
    assert tally_verify(viewer=world.users["resident"], ballot=b).ok
    Ballot.objects.filter(pk=b.pk).update(closed_at=timezone.now() - timedelta(days=16))
    b.refresh_from_db()
    Vote.objects.filter(channel="ratification").delete()
    with pytest.raises(Conflict) as exc:
        ratification(
            actor=world.users["neighbour"],
            ballot=b,
            resident=world.residents["neighbour"],
            choices=[0],
        )
    assert "截止" in str(exc.value.message)


def test_ballot_without_window_refuses_ratification(world, ballot):
    expire(ballot)
    b = ballot_close(actor=world.users["secretary"], ballot=ballot)
    with pytest.raises(Conflict):
        ratification(
            actor=world.users["neighbour"],
            ballot=b,
            resident=world.residents["neighbour"],
            choices=[0],
        )


# ------------------------------------------------------------------ receipts, secrecy, audit


def test_secret_ballot_receipt_proves_counting_without_revealing(world):
    b = make_ballot(world, secret=True)
    r = vote_cast(actor=world.users["resident"], ballot=b, choices=[1])
    check = receipt_check(viewer=world.users["neighbour"], ballot=b, code=r.receipt.lower())
    assert check.counted and check.choices is None
    assert not receipt_check(
        viewer=world.users["neighbour"], ballot=b, code="0000-0000-0000-0000"
    ).counted
    ev = AuditEvent.objects.filter(action="voting.vote_cast").latest("id")
    assert ev.actor_id is None
    voter_id = r.vote.voter_id
    assert ev.payload["voter"] != f"v{voter_id}" and len(ev.payload["voter"]) == 24
    assert ev.payload["receipt_hash"] == receipt_hash(r.receipt)
    status = voter_status(viewer=world.users["resident"], ballot=b)
    assert status.receipt == r.receipt
    expire(b)
    b = ballot_close(actor=world.users["secretary"], ballot=b)
    assert counted_receipt_hashes(viewer=world.users["neighbour"], ballot=b) == [
        receipt_hash(r.receipt)
    ]


def test_open_ballot_receipt_shows_choice(world, ballot):
    r = vote_cast(actor=world.users["resident"], ballot=ballot, choices=[1])
    assert receipt_check(viewer=world.users["resident"], ballot=ballot, code=r.receipt).choices == [
        "反对"
    ]


def test_recount_detects_a_vote_that_is_not_in_the_chain(world, ballot):
    vote_cast(actor=world.users["resident"], ballot=ballot, choices=[0])
    voter = BallotVoter.objects.get(ballot=ballot, resident=world.residents["neighbour"])
    # A row slipped into the table behind the services' back.
    Vote.objects.create(
        ballot=ballot,
        community_id=ballot.community_id,
        voter=voter,
        choices=[0],
        channel="online",
        receipt_nonce="n",
        receipt_hash="f" * 64,
    )
    expire(ballot)
    b = ballot_close(actor=world.users["secretary"], ballot=ballot)
    v = tally_verify(viewer=world.users["secretary"], ballot=b)
    assert not v.ok
    assert any("participants" in d for d in v.differences)
    assert recount_from_audit(b).raw.participants == 1


def test_result_hidden_from_residents_until_close(world, ballot):
    with pytest.raises(PermissionDenied):
        ballot_result(viewer=world.users["resident"], ballot=ballot)
    assert ballot_result(viewer=world.users["secretary"], ballot=ballot).final is False


def test_recount_command(world, ballot):
    from io import StringIO

    from django.core.management import call_command

    vote_cast(actor=world.users["resident"], ballot=ballot, choices=[0])
    expire(ballot)
    ballot_close(actor=world.users["secretary"], ballot=ballot)
    out = StringIO()
    call_command("voting_recount", ballot.pk, stdout=out)
    assert out.getvalue().startswith("OK")
