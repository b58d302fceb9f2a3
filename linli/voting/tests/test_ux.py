"""What a resident and the organiser see (issue 10): the not-yet-open state, result
bars, 修改投票 without a change, who in the household voted, and the confirmation
step before 开始投票."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import make_resident, make_user
from linli.accounts.models import Membership, Role
from linli.core.models import AuditEvent
from linli.voting.models import Ballot, BallotVoter
from linli.voting.services import ballot_close, roll_preview_count
from linli.voting.tests.conftest import expire, make_ballot

SHANGHAI = ZoneInfo("Asia/Shanghai")
RECEIPT = re.compile(r"[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}")


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def open_confirmed(client: Client, ballot: Ballot):
    """开始投票 through its confirmation page, as the organiser does it."""
    url = reverse("voting:ballot_open", args=[ballot.pk])
    page = client.post(url).content.decode()
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token is not None, page
    return client.post(url, {"confirm": "1", "token": token.group(1)})


def test_upcoming_ballot_says_when_it_opens_and_offers_no_form(world):
    # 09:00 Shanghai time tomorrow — 01:00 UTC: the page must show local time.
    local = timezone.now().astimezone(SHANGHAI) + timedelta(days=1)
    opens = datetime(local.year, local.month, local.day, 9, 0, tzinfo=SHANGHAI)
    ballot = make_ballot(world, opens_at=opens, closes_at=opens + timedelta(days=3))
    assert ballot.status == "open" and ballot.phase == "upcoming"
    c = _client(world.users["resident"])
    body = c.get(reverse("voting:ballot_detail", args=[ballot.pk])).content.decode()
    label = f"未开始 · {opens:%m-%d} 09:00 开始"
    assert label in body
    assert "投票中" not in body
    assert reverse("voting:vote", args=[ballot.pk]) not in body and 'name="choice"' not in body
    assert f"{opens.month}月{opens.day}日 09:00" in body
    listing = c.get(reverse("voting:ballot_list")).content.decode()
    assert label in listing and "投票中" not in listing
    # Once the opening time has passed, the form is there and the badge is green.
    Ballot.objects.filter(pk=ballot.pk).update(opens_at=timezone.now() - timedelta(minutes=1))
    body = c.get(reverse("voting:ballot_detail", args=[ballot.pk])).content.decode()
    assert "投票中" in body and 'name="choice"' in body and "未开始" not in body


def test_unchanged_vote_on_the_page_keeps_the_receipt(world):
    ballot = make_ballot(world, allow_change=True)
    c = _client(world.users["resident"])
    url = reverse("voting:vote", args=[ballot.pk])
    first = c.post(url, {"choice": "0", "idem": "p1"}, follow=True).content.decode()
    m = RECEIPT.search(first)
    assert m is not None
    code = m.group(0)
    again = c.post(url, {"choice": "0", "idem": "p2"}, follow=True).content.decode()
    assert "没有变化" in again and code in again
    chk = c.get(reverse("voting:receipt", args=[ballot.pk]), {"code": code})
    assert "已计入统计" in chk.content.decode()
    changed = c.post(url, {"choice": "1", "idem": "p3"}, follow=True).content.decode()
    assert "已改票" in changed
    assert (
        "未找到该回执"
        in c.get(reverse("voting:receipt", args=[ballot.pk]), {"code": code}).content.decode()
    )


def test_household_ballot_says_which_member_voted(world):
    h1 = world.residents["resident"].household
    spouse_user = make_user("spouse-vote")
    make_resident(h1, "赵六", user=spouse_user)
    Membership.objects.create(user=spouse_user, role=Role.RESIDENT, unit=world.community)
    ballot = make_ballot(
        world, eligibility="households", validity_rule="households_75", allow_change=True
    )
    _client(world.users["resident"]).post(reverse("voting:vote", args=[ballot.pk]), {"choice": "0"})
    spouse = _client(spouse_user).get(reverse("voting:ballot_detail", args=[ballot.pk]))
    body = spouse.content.decode()
    # Through the privacy display helper: a household member without staff rights
    # sees the masked name (张三 did not opt in to showing his name).
    assert "本户已由" in body and "张**" in body and "张三" not in body
    own = _client(world.users["resident"]).get(reverse("voting:ballot_detail", args=[ballot.pk]))
    assert "本户的票由您本人投出" in own.content.decode()
    # Someone in another household learns nothing about it.
    other = _client(world.users["neighbour"]).get(reverse("voting:ballot_detail", args=[ballot.pk]))
    assert "本户已由" not in other.content.decode()


def test_result_page_has_bars_above_the_table(world, ballot):
    _client(world.users["resident"]).post(reverse("voting:vote", args=[ballot.pk]), {"choice": "0"})
    expire(ballot)
    ballot_close(actor=world.users["secretary"], ballot=ballot)
    body = _client(world.users["neighbour"]).get(reverse("voting:result", args=[ballot.pk]))
    html = body.content.decode()
    assert html.count('<progress class="bar"') == 3
    assert html.index('<progress class="bar"') < html.index("<table")
    assert 'value="100"' in html and "1 票 · 100%" in html


def test_open_shows_a_confirmation_before_freezing_the_roll(world):
    ballot = make_ballot(world, open_now=False)
    n = roll_preview_count(ballot)
    assert n == 2  # the two adult residents of the community
    sec = _client(world.users["secretary"])
    url = reverse("voting:ballot_open", args=[ballot.pk])
    detail = sec.get(reverse("voting:ballot_detail", args=[ballot.pk])).content.decode()
    assert f'action="{url}"' in detail
    for resp in (sec.post(url), sec.get(url)):
        assert resp.status_code == 200
        page = resp.content.decode()
        assert f"开始后选民名单将被冻结，共 {n} 名选民" in page
        assert 'name="confirm" value="1"' in page
    ballot.refresh_from_db()
    assert ballot.status == "draft" and not BallotVoter.objects.filter(ballot=ballot).exists()
    # Residents cannot reach it; a confirm with a forged token changes nothing.
    assert _client(world.users["resident"]).get(url).status_code == 404
    forged = sec.post(url, {"confirm": "1", "token": f"{ballot.pk}:1:x"}, follow=True)
    assert "确认已过期" in forged.content.decode()
    ballot.refresh_from_db()
    assert ballot.status == "draft"
    events = AuditEvent.objects.filter(action="voting.ballot_opened").count()
    # The real confirmation opens it, once; a second tap of the same button is told
    # it is open, not refused, and freezes nothing twice.
    token = re.search(r'name="token" value="([^"]+)"', sec.get(url).content.decode())
    assert token is not None
    for _i in range(2):
        r = sec.post(url, {"confirm": "1", "token": token.group(1)}, follow=True)
        assert "投票已开始，选民名册已固定" in r.content.decode()
    ballot.refresh_from_db()
    assert ballot.status == "open" and ballot.eligible_count == n
    assert BallotVoter.objects.filter(ballot=ballot).count() == n
    assert AuditEvent.objects.filter(action="voting.ballot_opened").count() == events + 1


def test_open_confirmation_refuses_a_ballot_that_cannot_open(world):
    ballot = make_ballot(world)  # already open
    sec = _client(world.users["secretary"])
    r = sec.get(reverse("voting:ballot_open", args=[ballot.pk]))
    assert r.status_code == 302
    assert r["Location"] == reverse("voting:ballot_detail", args=[ballot.pk])
    assert BallotVoter.objects.filter(ballot=ballot).count() == ballot.eligible_count
