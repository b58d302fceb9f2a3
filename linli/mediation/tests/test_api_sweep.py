"""The JSON API, the reminder sweep and the figures."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from linli.core.notify import MemorySender
from linli.mediation import selectors, services
from linli.mediation.models import Case
from linli.mediation.tests.conftest import open_case, record_session, save_agreement, sign

pytestmark = pytest.mark.django_db


def api(user: Any) -> Client:
    c = Client(enforce_csrf_checks=False)
    c.force_login(user)
    return c


def post(c: Client, url: str, data: Any, **kw: Any) -> Any:
    return c.post(url, json.dumps(data), content_type="application/json", **kw)


def test_api_workflow(mw: Any) -> None:
    worker, mediator = api(mw.user("worker")), api(mw.user("grid_worker"))
    base = "/api/v1/mediation"
    r = post(
        worker,
        f"{base}/cases",
        {
            "kind": "noise",
            "title": "广场舞噪音",
            "facts": "晚上九点后广场舞音响过大。",
            "channel": "hotline",
            "parties": [{"role": "applicant", "name": "孙八", "phone": "13600001111"}],
            "mediator_ids": [mw.mediator.pk],
        },
        HTTP_IDEMPOTENCY_KEY="api-open-1",
    )
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    assert r.json()["level"] == "community" and r.json()["actions"] == ["record_session", "close"]
    again = post(
        worker,
        f"{base}/cases",
        {
            "kind": "noise",
            "title": "广场舞噪音",
            "facts": "晚上九点后广场舞音响过大。",
            "channel": "hotline",
            "parties": [{"role": "applicant", "name": "孙八"}],
        },
        HTTP_IDEMPOTENCY_KEY="api-open-1",
    )  # noqa: E501
    assert again.json()["id"] == pk
    r = post(mediator, f"{base}/cases/{pk}/close", {"outcome": ""})
    assert r.status_code == 400 and r.json()["field"] == "outcome"
    r = post(
        mediator,
        f"{base}/cases/{pk}/sessions",
        {
            "held_at": timezone.now().isoformat(),
            "location": "广场",
            "attendees": "孙八、舞队队长",
            "notes": "约定晚上八点半后音量调低。",
        },
    )
    assert r.status_code == 201 and r.json()["status"] == "mediating"
    r = post(mediator, f"{base}/cases/{pk}/escalate", {"reason": ""})
    assert r.status_code == 400
    r = post(
        mediator,
        f"{base}/cases/{pk}/close",
        {"outcome": "no_agreement", "note": "舞队不同意调整时间"},
    )
    assert r.status_code == 200 and r.json()["status"] == "closed"
    # Outsiders: 404, not 403.
    assert api(mw.user("stranger")).get(f"{base}/cases/{pk}").status_code == 404
    assert api(mw.user("stranger")).get(f"{base}/cases").json() == []
    figs = api(mw.user("secretary")).get(f"{base}/figures").json()
    assert figs[0]["community"] == "阳光社区" and figs[0]["failed"] == 1


def test_api_agreement_missing_parts(mw: Any) -> None:
    r = api(mw.user("grid_worker")).put(
        f"/api/v1/mediation/cases/{mw.case.pk}/agreement",
        json.dumps({"facts": "漏水", "terms": "赔偿"}),
        content_type="application/json",
    )
    assert r.status_code == 400
    assert r.json()["details"]["missing"] == [
        "争议事项",
        "各方当事人的责任",
        "履行方式",
        "履行期限",
    ]


def test_api_in_openapi(client: Any) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    paths = [p for p in doc["paths"] if p.startswith("/api/v1/mediation/")]
    for suffix in (
        "cases",
        "sessions",
        "agreement",
        "sign",
        "escalate",
        "close",
        "follow-up",
        "evidence",
        "from-request",
        "mediators",
        "figures",
    ):  # noqa: E501
        assert any(suffix in p for p in paths), suffix


def test_sweep_follow_up_and_confirmation(mw: Any, django_capture_on_commit_callbacks: Any) -> None:
    record_session(mw)
    save_agreement(mw)
    sign(mw)
    services.case_close(actor=mw.user("grid_worker"), case=mw.case, outcome="agreement")
    MemorySender.outbox.clear()
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sweep_reminders(now=now).followups == 0
    # 23 days later: the confirmation window closes in 7 days — the parties are told.
    with django_capture_on_commit_callbacks(execute=True):
        r = services.sweep_reminders(now=now + timedelta(days=23))
    assert (r.followups, r.confirmations) == (0, 1)
    sms = [m for m in MemorySender.outbox if m.channel == "sms"]
    assert len(sms) == 2 and "司法确认" in sms[0].body
    # 30 days later: the follow-up is due — the mediator is told, once.
    MemorySender.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        r = services.sweep_reminders(now=now + timedelta(days=30))
    assert (r.followups, r.confirmations) == (1, 0)
    assert [m.to for m in MemorySender.outbox] == ["grid_worker"]
    assert services.sweep_reminders(now=now + timedelta(days=31)).followups == 0
    due = selectors.cases_for(viewer=mw.user("worker"), followup_due=True)
    assert list(due) == []  # due is today+30 from the real clock: not yet
    Case.objects.filter(pk=mw.case.pk).update(followup_due=timezone.localdate())
    assert list(selectors.cases_for(viewer=mw.user("worker"), followup_due=True)) == [mw.case]


def test_figures_success_rate_and_days(world: Any) -> None:
    m = services.mediator_add(
        actor=world.user("secretary"), community=world.community, user=world.user("grid_worker")
    )
    from linli.mediation.tests.conftest import MW

    cases = [open_case(world, m) for _ in range(4)]
    # Opened 4 and 10 days ago, agreed today; one failed, one withdrawn.
    for case, days in zip(cases[:2], (4, 10), strict=True):
        Case.objects.filter(pk=case.pk).update(opened_at=timezone.now() - timedelta(days=days))
        case.refresh_from_db()
        mw = MW(world, m, case)
        save_agreement(mw)
        sign(mw)
        services.case_close(actor=world.user("grid_worker"), case=case, outcome="agreement")
    services.case_close(
        actor=world.user("grid_worker"), case=cases[2], outcome="no_agreement", note="不同意"
    )
    services.case_close(
        actor=world.user("grid_worker"), case=cases[3], outcome="withdrawn", note="撤回"
    )
    f = selectors.community_figures([world.community.pk, world.other_community.pk])
    mine = f[world.community.pk]
    assert (mine.opened, mine.agreed, mine.failed, mine.withdrawn) == (4, 2, 1, 1)
    assert mine.success_rate == round(2 / 3, 4)
    assert mine.median_days_to_agreement == 7.0 and mine.mean_days_to_agreement == 7.0
    assert f[world.other_community.pk].opened == 0
    assert f[world.other_community.pk].success_rate is None


def test_api_evidence_and_assign(mw: Any, tmp_path: Any, settings: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    base = f"/api/v1/mediation/cases/{mw.case.pk}"
    c = api(mw.user("grid_worker"))
    r = c.post(
        f"{base}/evidence",
        {
            "file": SimpleUploadedFile("照片.png", b"\x89PNG\r\n\x1a\n" + b"0" * 50),
            "description": "漏水照片",
        },
    )
    assert r.status_code == 201, r.content
    assert r.json()["content_type"] == "image/png"
    bad = c.post(f"{base}/evidence", {"file": SimpleUploadedFile("x.txt", b"hello world")})
    assert bad.status_code == 400
    m = services.mediator_add(
        actor=mw.user("secretary"), community=mw.w.community, user=mw.user("worker")
    )
    r = post(api(mw.user("secretary")), f"{base}/mediators", {"mediator_id": m.pk, "lead": True})
    assert r.status_code == 200
    leads = [x["name"] for x in r.json()["mediators"] if x["lead"]]
    assert leads == ["worker"]
    # A party cannot assign.
    r = post(api(mw.user("resident")), f"{base}/mediators", {"mediator_id": m.pk})
    assert r.status_code == 403


def test_workbench_strip(mw: Any) -> None:
    from linli.core.nav import strips_for

    strips = {s.key: s for s in strips_for(mw.user("worker"))}
    cells = {str(c.label): c.count for c in strips["mediation"].cells}
    assert cells == {"回访到期": 0, "调解中": 1}
    assert "mediation" not in {s.key for s in strips_for(mw.user("resident"))}
