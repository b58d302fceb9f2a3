"""Merging duplicates from the staff page (issue 10, finding 12): nothing pre-selected,
only related open requests offered, and a confirmation step before anything changes."""

from __future__ import annotations

import functools
import re
from typing import Any

import pytest
from django.utils import timezone

from linli.requests.models import ServiceRequest, Status
from linli.requests.services import request_accept, request_resolve

pytestmark = pytest.mark.django_db


@pytest.fixture
def submit(submit: Any) -> Any:
    return functools.partial(submit, now=timezone.now())


@pytest.fixture
def five(world: Any, submit: Any) -> dict[str, ServiceRequest]:
    a = submit("fac-light", "1幢三楼楼道灯坏了，晚上很黑")
    same_cat = submit("fac-light", "2幢门口路灯不亮", building=world.building2)
    same_bld = submit("di-noise", "1幢楼上装修噪音很大，晚上十点还在", user="neighbour")
    unrelated = submit("env-garbage", "2幢垃圾桶满了没人清运", building=world.building2)
    closed = submit("fac-light", "1幢一楼楼道灯也坏了", user="neighbour")
    p = world.user("property")
    request_accept(actor=p, request=closed)
    request_resolve(actor=p, request=closed, resolution="已更换灯泡")
    return {
        "a": a,
        "same_cat": same_cat,
        "same_bld": same_bld,
        "unrelated": unrelated,
        "closed": closed,
    }


def _options(page: str) -> list[tuple[str, bool]]:
    select = re.search(r'<select id="merge-into".*?</select>', page, re.S)
    assert select is not None, "the merge choice is on the page"
    return [
        (m.group(1), "selected" in m.group(0))
        for m in re.finditer(r'<option value="(\d*)"[^>]*>', select.group(0))
    ]


def test_candidates_are_related_open_requests_and_none_is_preselected(
    client: Any, world: Any, five: dict[str, ServiceRequest]
) -> None:
    client.force_login(world.user("secretary"))
    page = client.get(f"/requests/desk/{five['a'].pk}/").content.decode()
    opts = _options(page)
    assert opts[0] == ("", True)  # the empty choice, pre-selected
    assert not any(sel for _v, sel in opts[1:])
    offered = {v for v, _s in opts[1:]}
    assert offered == {str(five["same_cat"].pk), str(five["same_bld"].pk)}


def test_merge_only_after_confirmation(
    client: Any, world: Any, five: dict[str, ServiceRequest]
) -> None:
    a, b = five["a"], five["same_cat"]
    client.force_login(world.user("secretary"))
    # Choosing leads to the confirmation step; nothing changes.
    r = client.post(f"/requests/desk/{a.pk}/merge/", {"into": b.pk})
    assert (
        r.status_code == 302
        and r["Location"] == f"/requests/desk/{a.pk}/merge/confirm/?into={b.pk}"
    )
    a.refresh_from_db()
    assert a.status == Status.SUBMITTED and a.merged_into_id is None
    page = client.get(r["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    assert f"确认合并 #{a.pk} 到 #{b.pk}？" in body and "不能撤销" in body
    assert 'name="confirm" value="1"' in body
    a.refresh_from_db()
    assert a.status == Status.SUBMITTED  # looking at the step changes nothing
    # Confirmed: merged.
    r = client.post(f"/requests/desk/{a.pk}/merge/", {"into": b.pk, "confirm": "1"})
    assert r.status_code == 302
    a.refresh_from_db()
    assert a.status == Status.MERGED and a.merged_into_id == b.pk


@pytest.mark.parametrize("which", ["unrelated", "closed"])
def test_unrelated_or_closed_target_is_refused_even_when_confirmed(
    client: Any, world: Any, five: dict[str, ServiceRequest], which: str
) -> None:
    a, other = five["a"], five[which]
    client.force_login(world.user("secretary"))
    r = client.get(f"/requests/desk/{a.pk}/merge/confirm/", {"into": other.pk})
    assert r.status_code == 302 and r["Location"] == f"/requests/desk/{a.pk}/"
    r = client.post(
        f"/requests/desk/{a.pk}/merge/", {"into": other.pk, "confirm": "1"}, follow=True
    )
    assert "同类别或同楼栋" in r.content.decode()
    a.refresh_from_db()
    assert a.status == Status.SUBMITTED and a.merged_into_id is None


def test_confirm_step_needs_a_manager(
    client: Any, world: Any, five: dict[str, ServiceRequest]
) -> None:
    client.force_login(world.user("neighbour"))
    url = f"/requests/desk/{five['a'].pk}/merge/confirm/?into={five['same_cat'].pk}"
    assert client.get(url).status_code == 404


def test_no_candidates_says_so(client: Any, world: Any, submit: Any) -> None:
    lone = submit("env-garbage", "1幢垃圾桶满了没人清运")
    client.force_login(world.user("secretary"))
    page = client.get(f"/requests/desk/{lone.pk}/").content.decode()
    assert 'id="merge-into"' not in page and "没有同类别或同楼栋" in page
