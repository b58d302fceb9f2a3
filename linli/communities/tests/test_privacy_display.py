"""Privacy settings are read everywhere a resident is shown to others (issue 9,
finding 7): one display helper, "1幢 张**" unless the person opted in."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from linli.communities.display import display_name, phone_for, skills_visible
from linli.communities.models import PrivacySetting
from linli.communities.services import privacy_update

pytestmark = pytest.mark.django_db

MASKED = "1幢 张**"  # 张三 lives in 1幢


def _opt_in(world: Any, **choices: Any) -> None:
    resident = world.residents["resident"]
    current = {"phone_visibility": "staff", "skills_visibility": "neighbours"}
    if hasattr(resident, "privacy"):
        p = resident.privacy
        current = {
            "show_name_publicly": p.show_name_publicly,
            "phone_visibility": p.phone_visibility,
            "skills_visibility": p.skills_visibility,
            "hall_of_fame_consent": p.hall_of_fame_consent,
        }
    current.update(choices)
    privacy_update(actor=world.user("resident"), resident=resident, **current)
    resident.refresh_from_db()
    if hasattr(resident, "_state"):
        resident._state.fields_cache.pop("privacy", None)


def test_helper_real_name_for_self_and_staff_masked_for_others(world) -> None:
    r = world.residents["resident"]
    assert display_name(r, viewer=world.user("resident")) == "张三"
    for staff in ("grid_worker", "worker", "secretary", "street_officer"):
        assert display_name(r, viewer=world.user(staff)) == "张三", staff
    for other in ("neighbour", "stranger", "other_secretary", "property"):
        assert display_name(r, viewer=world.user(other)) == MASKED, other
    from django.contrib.auth.models import AnonymousUser

    assert display_name(r, viewer=AnonymousUser()) == MASKED
    # A user with a resident record is shown the same way.
    assert display_name(world.user("resident"), viewer=world.user("neighbour")) == MASKED
    # Staff accounts act in their official role: shown as they are.
    assert display_name(world.user("secretary"), viewer=world.user("neighbour")) == "secretary"
    _opt_in(world, show_name_publicly=True)
    assert display_name(r, viewer=world.user("neighbour")) == "张三"


def test_phone_visibility_is_respected(world) -> None:
    r = world.residents["resident"]
    assert phone_for(r, viewer=world.user("neighbour")) == ""
    assert phone_for(r, viewer=world.user("secretary")) == "138****1234"
    assert phone_for(r, viewer=world.user("resident")) == "13812341234"
    _opt_in(world, phone_visibility="public")
    assert phone_for(r, viewer=world.user("neighbour")) == "13812341234"
    assert PrivacySetting.objects.get(resident=r).phone_visibility == "public"


def _discussing_topic_with_comment(world: Any) -> Any:
    from linli.deliberation.services import topic_comment, topic_propose, topic_transition

    t = topic_propose(
        actor=world.user("resident"),
        community=world.community,
        title="加装电梯",
        description="楼里老人多，上下楼困难，建议加装电梯。",
    )
    t = topic_transition(actor=world.user("secretary"), topic=t, to="discussing")
    topic_comment(actor=world.user("resident"), topic=t, body="我支持加装电梯")
    return t


def test_comment_author_masked_for_other_residents_until_opt_in(world) -> None:
    t = _discussing_topic_with_comment(world)
    c = Client()
    c.force_login(world.user("neighbour"))
    page = c.get(f"/deliberation/topics/{t.pk}/").content.decode()
    assert "我支持加装电梯" in page and MASKED in page and "张三" not in page
    api = c.get(f"/api/v1/deliberation/topics/{t.pk}").json()
    assert [x["author"] for x in api["comment_list"]] == [MASKED]
    # Staff of the community see the real name.
    c.force_login(world.user("secretary"))
    assert "张三" in c.get(f"/deliberation/topics/{t.pk}/").content.decode()
    _opt_in(world, show_name_publicly=True)
    c.force_login(world.user("neighbour"))
    page = c.get(f"/deliberation/topics/{t.pk}/").content.decode()
    assert "张三" in page and MASKED not in page
    api = c.get(f"/api/v1/deliberation/topics/{t.pk}").json()
    assert [x["author"] for x in api["comment_list"]] == ["张三"]


def test_skills_pool_hidden_from_other_buildings_until_opt_in(world) -> None:
    from linli.volunteers import selectors, services

    services.profile_save(
        actor=world.user("resident"),
        resident=world.residents["resident"],
        skills=[("repair", "修电视")],
    )

    def pool_for(who: str) -> list[str]:
        c = Client()
        c.force_login(world.user(who))
        r = c.get(f"/volunteers/skills/?community={world.community.pk}")
        assert r.status_code == 200
        return [r.content.decode()]

    # 李四 lives in 2幢: by default (same building only) 张三 is not listed at all.
    assert not list(
        selectors.skills_pool(viewer=world.user("neighbour"), community_id=world.community.pk)
    )
    page = pool_for("neighbour")[0]
    assert "张三" not in page and "修电视" not in page
    assert not skills_visible(world.residents["resident"], viewer=world.user("neighbour"))
    # Staff of the community still see everyone, with real names.
    assert "张三" in pool_for("worker")[0]
    # After opting in to community-wide visibility: listed, name still masked.
    _opt_in(world, skills_visibility="public")
    page = pool_for("neighbour")[0]
    assert "修电视" in page and MASKED in page and "张三" not in page
    _opt_in(world, show_name_publicly=True)
    assert "张三" in pool_for("neighbour")[0]
    # "Staff only" hides the person from neighbours again.
    _opt_in(world, skills_visibility="staff")
    assert "修电视" not in pool_for("neighbour")[0]


def _honour(world: Any) -> None:
    from django.utils import timezone

    from linli.ledger.services import honour_award

    honour_award(
        actor=world.user("secretary"),
        community=world.community,
        resident=world.residents["resident"],
        kind="best_volunteer",
        year=timezone.localdate().year,
        citation="热心助老",
    )


def test_public_hall_of_fame_shows_nobody_without_consent(world) -> None:
    _honour(world)
    anon = Client()
    url = f"/ledger/hall-of-fame/{world.community.pk}/"
    page = anon.get(url).content.decode()
    assert "张三" not in page and "热心助老" not in page and MASKED not in page
    api = anon.get(f"/api/v1/ledger/hall-of-fame/{world.community.pk}")
    assert api.status_code == 200 and api.json() == []
    # Staff managing honours still see the award.
    staff = Client()
    staff.force_login(world.user("secretary"))
    assert (
        "张三"
        in staff.get(f"/ledger/manage/honours/?community={world.community.pk}").content.decode()
    )
    # With consent: shown, by the display rule (masked for the public) …
    _opt_in(world, hall_of_fame_consent=True)
    page = anon.get(url).content.decode()
    assert MASKED in page and "张三" not in page and "热心助老" in page
    assert [
        h["name"] for h in anon.get(f"/api/v1/ledger/hall-of-fame/{world.community.pk}").json()
    ] == [MASKED]
    # … and by real name once the person opted in to that too.
    _opt_in(world, show_name_publicly=True)
    assert "张三" in anon.get(url).content.decode()


def test_privacy_page_offers_hall_of_fame_consent(world) -> None:
    c = Client()
    c.force_login(world.user("resident"))
    assert "hall_of_fame_consent" in c.get("/accounts/profile/").content.decode()
    r = c.post(
        "/accounts/profile/",
        {
            "phone_visibility": "staff",
            "skills_visibility": "neighbours",
            "hall_of_fame_consent": "on",
        },
    )
    assert r.status_code == 302
    assert PrivacySetting.objects.get(resident=world.residents["resident"]).hall_of_fame_consent


def test_timebank_recipient_found_by_code_never_by_name(world) -> None:
    from linli.ledger import selectors

    c = Client()
    c.force_login(world.user("neighbour"))
    # Searching by name (even one character) lists nobody.
    for q in ("张", "张三", "三"):
        assert selectors.service_recipients(viewer=world.user("neighbour"), query=q) == []
        page = c.get("/ledger/timebank/", {"q": q}).content.decode()
        assert f'<option value="{world.residents["resident"].pk}"' not in page
        assert "1幢" not in page
    # 张三 sees their own code on their time-bank page and gives it to the helper.
    owner = Client()
    owner.force_login(world.user("resident"))
    page = owner.get("/ledger/timebank/").content.decode()
    code = PrivacySetting.objects.get(resident=world.residents["resident"]).share_code
    assert code and code in page
    found = selectors.service_recipients(viewer=world.user("neighbour"), query=code.lower())
    assert [r.pk for r in found] == [world.residents["resident"].pk]
    page = c.get("/ledger/timebank/", {"q": code}).content.decode()
    assert MASKED in page and "张三" not in page
    # A resident of another community cannot use it.
    assert selectors.service_recipients(viewer=world.user("stranger"), query=code) == []
