"""Pages without JavaScript: answering step by step with skip logic, the builder,
results, and 微心愿; English works; outsiders see nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from linli.surveys.models import Participation, Question, Survey
from linli.surveys.tests.conftest import crowd, make_survey, paper, skip_specs

pytestmark = pytest.mark.django_db


def _client(world: Any, who: str) -> Client:
    c = Client()
    c.force_login(world.users[who])
    return c


def _post_step(c: Client, url: str, page: Any, data: dict[str, Any]) -> Any:
    body = page.content.decode()
    import re

    pos = re.search(r'name="pos" value="(\d+)"', body)
    answers = re.search(r'name="answers_json" value="([^"]*)"', body)
    assert pos and answers
    import html

    return c.post(
        url, {"pos": pos.group(1), "answers_json": html.unescape(answers.group(1)), **data}
    )


def test_answer_with_jump_step_by_step(world: Any) -> None:
    s = make_survey(world)
    c = _client(world, "resident")
    url = f"/surveys/{s.pk}/fill/"
    page = c.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    # q1 has a jump: the first step ends with it.
    assert 'name="q_q1"' in body and 'name="q_q2"' not in body
    page = _post_step(c, url, page, {"q_q1": "2"})
    body = page.content.decode()
    # Jumped to q4 (page 2): q2, q3 skipped; q6 hidden by its condition.
    assert 'name="q_q4_r1"' in body and 'name="q_q2"' not in body and 'name="q_q6"' not in body
    page = _post_step(c, url, page, {"q_q4_r1": "1", "q_q4_r2": "3", "q_q5": "灯坏了"})
    assert page.status_code == 302
    assert Participation.objects.filter(survey=s, resident=world.residents["resident"]).exists()
    # A second visit says it is done.
    assert "只能提交一次" in c.get(url).content.decode()


def test_required_question_message_and_nothing_saved(world: Any) -> None:
    s = make_survey(world)
    c = _client(world, "resident")
    url = f"/surveys/{s.pk}/fill/"
    page = c.get(url)
    page = _post_step(c, url, page, {})
    assert "必答" in page.content.decode()
    assert not Participation.objects.filter(survey=s).exists()


def test_closed_survey_page(world: Any) -> None:
    from linli.surveys import services

    s = make_survey(world)
    services.survey_close(actor=world.users["worker"], survey=s)
    body = _client(world, "resident").get(f"/surveys/{s.pk}/fill/").content.decode()
    assert "当前状态" in body or "截止" in body


def test_outsider_gets_404(world: Any) -> None:
    s = make_survey(world)
    c = _client(world, "stranger")
    for url in (f"/surveys/{s.pk}/", f"/surveys/{s.pk}/fill/", f"/surveys/{s.pk}/results/"):
        assert c.get(url).status_code == 404


def test_results_page_staff_and_published(world: Any) -> None:
    from linli.surveys import services

    s = make_survey(world)
    for i, r in enumerate(crowd(world, 6)):
        paper(
            world,
            s,
            r,
            {
                "q1": "1",
                "q2": str(1 + i % 5),
                "q3": ["1"],
                "q4": {"1": "2", "2": "3"},
                "q5": "电梯维修",
            },
        )
    staff = _client(world, "worker").get(f"/surveys/{s.pk}/results/?by=age_band")
    body = staff.content.decode()
    assert staff.status_code == 200 and 'id="result-count">6<' in body and "crosstab-data" in body
    resident = _client(world, "resident")
    assert resident.get(f"/surveys/{s.pk}/results/").status_code == 404
    services.survey_close(actor=world.users["worker"], survey=s)
    services.survey_publish_results(actor=world.users["worker"], survey=s)
    body = resident.get(f"/surveys/{s.pk}/results/").content.decode()
    assert "电梯" in body  # keyword table
    assert "导出" not in body


def test_builder_add_question_and_refuse_loop(world: Any) -> None:
    s = make_survey(world, open_it=False)
    c = _client(world, "worker")
    url = f"/surveys/{s.pk}/edit/"
    assert c.get(url).status_code == 200
    r = c.post(
        url,
        {
            "op": "add",
            "code": "q7",
            "kind": "single",
            "text": "还有吗",
            "page": "2",
            "options": "有\n没有",
            "required": "1",
            "jumps": "= 1 -> q1",
        },
        follow=True,
    )
    assert "循环" in r.content.decode()
    assert not Question.objects.filter(survey=s, code="q7").exists()
    r = c.post(
        url,
        {
            "op": "add",
            "code": "q7",
            "kind": "single",
            "text": "还有吗",
            "page": "2",
            "options": "有\n没有",
            "required": "1",
            "condition": "q1 = 1",
        },
        follow=True,
    )
    assert Question.objects.get(survey=s, code="q7").condition == {
        "q": "q1",
        "op": "eq",
        "value": 1,
        "then": "show",
    }


def test_new_from_template_and_english(world: Any) -> None:
    c = _client(world, "worker")
    r = c.post(
        "/surveys/new/",
        {"community": world.community.pk, "template": "satisfaction", "idempotency_key": "k1"},
    )
    assert r.status_code == 302
    s = Survey.objects.get(idempotency_key="k1")
    assert s.questions.count() == 5
    r = c.get(f"/surveys/{s.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200


def test_public_link_without_login(world: Any) -> None:
    from linli.surveys import services

    s = services.survey_create(
        actor=world.users["worker"],
        community=world.community,
        settings=services.Settings(title="公开问卷", audience="public"),
        questions=skip_specs(),
    )
    services.survey_open(actor=world.users["worker"], survey=s)
    c = Client()
    url = f"/surveys/p/{s.public_token}/"
    page = c.get(url)
    assert page.status_code == 200
    page = _post_step(c, url, page, {"q_q1": "2"})
    page = _post_step(c, url, page, {"q_q4_r1": "1", "q_q4_r2": "1"})
    assert "感谢" in page.content.decode()
    p = Participation.objects.get(survey=s)
    assert p.resident_id is None and p.visitor
    assert "只能提交一次" in c.get(url).content.decode()


def test_wish_pages(world: Any) -> None:
    from linli.surveys.models import Wish

    c = _client(world, "resident")
    assert c.get("/surveys/wishes/").status_code == 200
    r = c.post(
        "/surveys/wishes/new/",
        {"group": "elderly", "title": "想要一件棉衣", "detail": "家里冷", "idempotency_key": "w1"},
    )
    assert r.status_code == 302
    w = Wish.objects.get()
    staff = _client(world, "worker")
    assert "张三" in staff.get("/surveys/wishes/staff/").content.decode()
    staff.post(
        f"/surveys/wishes/{w.pk}/act/",
        {"action": "publish", "public_title": "冬天的棉衣", "public_text": "一位老人想要棉衣"},
    )
    w.refresh_from_db()
    assert w.status == "published"
    # The wall shows the public words only.
    wall = _client(world, "neighbour").get("/surveys/wishes/").content.decode()
    assert "冬天的棉衣" in wall and "张三" not in wall and "家里冷" not in wall
    detail = _client(world, "neighbour").get(f"/surveys/wishes/{w.pk}/").content.decode()
    assert "家里冷" not in detail and "张三" not in detail


def test_api_answer_and_results(world: Any) -> None:
    s = make_survey(world)
    c = _client(world, "resident")
    r = c.post(
        f"/api/v1/surveys/{s.pk}/answers",
        json.dumps({"answers": {"q1": 2, "q4": {"1": 1, "2": 2}}}),
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    r = c.post(
        f"/api/v1/surveys/{s.pk}/answers",
        json.dumps({"answers": {"q1": 2, "q4": {"1": 1, "2": 2}}}),
        content_type="application/json",
    )
    assert r.status_code == 409
    staff = _client(world, "worker")
    r = staff.get(f"/api/v1/surveys/{s.pk}/results")
    assert r.status_code == 200 and r.json()["responses"] == 1
    assert all(q["hidden"] for q in r.json()["questions"])
    r = staff.post(
        "/api/v1/surveys/from-template",
        json.dumps({"community_id": world.community.pk, "template": "needs"}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="api-1",
    )
    assert r.status_code == 201
    r2 = staff.post(
        "/api/v1/surveys/from-template",
        json.dumps({"community_id": world.community.pk, "template": "needs"}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="api-1",
    )
    assert r2.json()["id"] == r.json()["id"]
    r = staff.post(
        f"/api/v1/surveys/{r.json()['id']}/questions".replace("/questions", "/questions"),
        json.dumps(
            {
                "questions": [
                    {
                        "code": "a",
                        "kind": "single",
                        "text": "x",
                        "options": ["1", "2"],
                        "jumps": [{"op": "eq", "value": 1, "to": "a"}],
                    }
                ]
            }
        ),
        content_type="application/json",
    )
    assert r.status_code in (405, 400, 404)
