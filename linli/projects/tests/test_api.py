"""/api/v1/projects/: the fast track over JSON, refusals as clear errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import World
from linli.communities.models import Resident
from linli.core import ratelimit
from linli.projects.models import MicroProject

pytestmark = pytest.mark.django_db
API = "/api/v1/projects"
BODY = {
    "title": "楼道灯",
    "problem": "楼道太暗",
    "plan": "装感应灯",
    "place": "1幢",
    "lines": [{"item": "感应灯", "amount_yuan": "5200.00"}],
}


def _post(client: Any, url: str, data: dict[str, Any], key: str = "") -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(url, json.dumps(data), content_type="application/json", **headers)


def test_api_fast_track(client: Any, world: World, third: Resident) -> None:
    client.force_login(world.user("resident"))
    r = _post(client, f"{API}/micro", BODY, key="api-1")
    assert r.status_code == 201, r.content
    pid = r.json()["id"]
    assert r.json()["budget_fen"] == 520_000 and r.json()["actions"] == ["withdraw"]
    assert _post(client, f"{API}/micro", BODY, key="api-1").json()["id"] == pid
    r = _post(client, f"{API}/micro/{pid}/act", {"action": "submit"})
    assert r.status_code == 400 and r.json()["code"] == "too_few_households"
    client.force_login(world.user("neighbour"))
    assert _post(client, f"{API}/micro/{pid}/cosign", {}).status_code == 201
    client.force_login(world.user("worker"))
    r = _post(client, f"{API}/micro/{pid}/cosign", {"resident_id": third.pk, "channel": "visit"})
    assert r.status_code == 201 and r.json()["households"] == 3
    r = _post(client, f"{API}/micro/{pid}/act", {"action": "submit"})
    assert r.status_code == 200 and r.json()["status"] == "proposed"
    r = _post(client, f"{API}/micro/{pid}/act", {"action": "reject"})
    assert r.status_code == 400
    r = _post(client, f"{API}/micro/{pid}/act", {"action": "approve"})
    assert r.json()["status"] == "reviewed"
    client.force_login(world.user("street_officer"))
    r = _post(client, f"{API}/micro/{pid}/act", {"action": "file"})
    assert r.json()["status"] == "filed"
    assert client.get(f"{API}/micro").json()[0]["id"] == pid
    # The next round of this (recurring) project points at it; an unfiled one cannot.
    client.force_login(world.user("resident"))
    with ratelimit.suspended():  # the proposal rate limit is not what is tested here
        r = _post(client, f"{API}/micro", {**BODY, "continues": pid})
        assert r.status_code == 201 and r.json()["series_id"] == pid
        assert r.json()["funding_cut"] is False
        r = _post(client, f"{API}/micro", {**BODY, "continues": r.json()["id"]})
    assert r.status_code == 400 and r.json()["field"] == "continues"


def test_api_refusals(client: Any, world: World) -> None:
    client.force_login(world.user("resident"))
    r = _post(client, f"{API}/micro", {**BODY, "lines": [{"item": "x", "amount_yuan": "10"}]})
    assert r.status_code == 400 and r.json()["code"] == "budget_out_of_range"
    r = _post(client, f"{API}/micro", {**BODY, "lines": []})
    assert r.status_code == 400 and r.json()["code"] == "no_budget_lines"
    assert MicroProject.objects.count() == 0
    client.force_login(world.user("stranger"))
    assert (
        _post(client, f"{API}/micro", {**BODY, "community_id": world.community.pk}).status_code
        == 404
    )


def test_api_pb_vote_and_results(client: Any, world: World) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from linli.projects.models import PBProject, Programme
    from linli.projects.tests.conftest import voting_programme

    prog = voting_programme(world)
    ids = list(PBProject.objects.filter(programme=prog).values_list("pk", flat=True))
    client.force_login(world.user("resident"))
    r = _post(client, f"{API}/programmes/{prog.pk}/ballot", {"project_ids": ids})
    assert r.status_code == 400 and r.json()["code"] == "too_many_choices"
    r = _post(client, f"{API}/programmes/{prog.pk}/ballot", {"project_ids": ids[:1]})
    assert r.status_code == 201
    r = _post(client, f"{API}/programmes/{prog.pk}/ballot", {"project_ids": ids[:1]})
    assert r.status_code == 409 and r.json()["code"] == "already_voted"
    Programme.objects.filter(pk=prog.pk).update(voting_closes=timezone.now() - timedelta(seconds=1))
    client.force_login(world.user("secretary"))
    r = _post(client, f"{API}/programmes/{prog.pk}/advance", {"action": "close_voting"})
    assert r.status_code == 200 and r.json()["phase"] == "results"
    client.logout()
    r = client.get(f"{API}/programmes/{prog.pk}/results")
    assert r.status_code == 200 and {x["method"] for x in r.json()} == {"greedy", "mes"}
