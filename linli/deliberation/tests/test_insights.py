"""Topics suggested from frequent requests: clusters, evidence, the staff page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from linli.core.errors import NotFound, PermissionDenied, ValidationFailed
from linli.core.models import AuditEvent
from linli.deliberation.insights import request_clusters, topic_from_cluster
from linli.deliberation.models import Topic, TopicEvidence
from linli.deliberation.services import topic_reject
from linli.requests.catalog import ensure_categories
from linli.requests.models import Category, ServiceRequest
from linli.requests.services import request_reject, request_submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def reqs(world: Any) -> dict[str, list[int]]:
    ensure_categories()
    cat = {c.code: c for c in Category.objects.all()}

    def submit(user: str, code: str, text: str, building: Any) -> ServiceRequest:
        return request_submit(
            actor=world.user(user), category=cat[code], description=text, building=building
        )

    b1, b2 = world.building, world.building2
    lights_b1 = [
        submit("resident", "fac-light", "1幢楼道灯坏了，晚上很黑", b1),
        submit("resident", "fac-light", "1幢3楼楼道灯不亮", b1),
        submit("resident", "fac-light", "1幢楼道灯又坏了，老人摔倒过", b1),
    ]
    clutter_b1 = submit("resident", "env-clutter", "1幢楼道堆了很多纸箱", b1)
    lights_b2 = [
        submit("neighbour", "fac-light", "2幢门口路灯不亮", b2),
        submit("neighbour", "fac-light", "2幢楼道灯坏了", b2),
    ]
    rejected = submit("neighbour", "fac-light", "2幢的灯太亮了睡不着", b2)
    request_reject(actor=world.user("worker"), request=rejected, reason="不属于故障")
    old = submit("neighbour", "fac-light", "2幢楼道灯坏了（上个月）", b2)
    ServiceRequest.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    return {
        "b1": sorted(r.pk for r in [*lights_b1, clutter_b1]),
        "light": sorted(r.pk for r in [*lights_b1, *lights_b2]),
    }


def test_clusters_by_building_and_category(world: Any, reqs: dict[str, list[int]]) -> None:
    clusters = request_clusters(viewer=world.user("secretary"), community=world.community)
    got = {c.key: (c.kind, c.label, sorted(c.request_ids)) for c in clusters}
    light = Category.objects.get(code="fac-light")
    assert got == {
        f"c{light.pk}": ("category", light.name, reqs["light"]),
        f"b{world.building.pk}": ("building", "1幢", reqs["b1"]),
    }
    by_key = {c.key: c for c in clusters}
    # Rejected and 40-day-old requests do not count; 2幢 has only 2 → no building cluster.
    assert by_key[f"c{light.pk}"].buildings == [("1幢", 3), ("2幢", 2)]
    assert by_key[f"b{world.building.pk}"].categories[0] == (light.name, 3)
    assert by_key[f"c{light.pk}"].representative.description.find("楼道灯") >= 0
    for key in ["resident", "grid_worker", "other_secretary"]:
        with pytest.raises(NotFound):
            request_clusters(viewer=world.user(key), community=world.community)


def test_cluster_becomes_a_proposed_topic_with_evidence(
    world: Any, reqs: dict[str, list[int]]
) -> None:
    sec = world.user("secretary")
    key = f"b{world.building.pk}"
    for who in ["resident", "other_secretary"]:
        with pytest.raises(PermissionDenied):
            topic_from_cluster(actor=world.user(who), community=world.community, key=key)
    with pytest.raises(ValidationFailed, match="不满足条件"):
        topic_from_cluster(actor=sec, community=world.community, key=f"b{world.building2.pk}")
    assert not Topic.objects.exists()

    t = topic_from_cluster(actor=sec, community=world.community, key=key)
    assert (t.step, t.source, t.source_ref) == ("proposed", "insight", f"requests:{key}")
    assert "来自高频诉求" in t.description and "1幢" in t.title
    assert (
        sorted(TopicEvidence.objects.filter(topic=t).values_list("request_id", flat=True))
        == (reqs["b1"])
    )
    ev = AuditEvent.objects.get(action="deliberation.topic_evidence")
    assert ev.payload["requests"] == reqs["b1"]

    clusters = {c.key: c for c in request_clusters(viewer=sec, community=world.community)}
    assert clusters[key].topic == t
    # The category cluster has only 2 requests beyond the topic's evidence: taken up too,
    # until enough new reports come in.
    light = Category.objects.get(code="fac-light")
    assert (clusters[f"c{light.pk}"].topic, clusters[f"c{light.pk}"].fresh) == (t, 2)
    request_submit(
        actor=world.user("neighbour"),
        category=light,
        description="2幢地下车库灯不亮",
        building=world.building2,
    )
    clusters = {c.key: c for c in request_clusters(viewer=sec, community=world.community)}
    assert (clusters[f"c{light.pk}"].topic, clusters[f"c{light.pk}"].fresh) == (None, 3)
    with pytest.raises(ValidationFailed, match="已经转为议题"):
        topic_from_cluster(actor=sec, community=world.community, key=key)
    assert Topic.objects.count() == 1
    # A rejected topic frees the cluster again.
    topic_reject(actor=sec, topic=t, reason="已由物业统一更换灯具")
    assert all(c.topic is None for c in request_clusters(viewer=sec, community=world.community))


def test_staff_page_and_button(client: Any, world: Any, reqs: dict[str, list[int]]) -> None:
    client.force_login(world.user("resident"))
    assert client.get("/deliberation/insights/").status_code == 404
    client.force_login(world.user("secretary"))
    body = client.get("/deliberation/insights/").content.decode()
    assert "楼栋：1幢" in body and f"#{reqs['b1'][0]}" in body and "转为议题" in body
    r = client.post(
        "/deliberation/insights/propose/",
        {"community": world.community.pk, "key": f"b{world.building.pk}"},
    )
    t = Topic.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/deliberation/topics/{t.pk}/"
    page = client.get(r["Location"]).content.decode()
    assert "依据：4 件居民诉求" in page
    body = client.get("/deliberation/insights/").content.decode()
    assert "已转为议题" in body
    # A stale form (cluster already taken up) comes back with the message, nothing new.
    r = client.post(
        "/deliberation/insights/propose/",
        {"community": world.community.pk, "key": f"b{world.building.pk}"},
        follow=True,
    )
    assert "已经转为议题" in r.content.decode() and Topic.objects.count() == 1
    api = client.get(f"/api/v1/deliberation/topics/{t.pk}").json()
    assert sorted(api["evidence_request_ids"]) == reqs["b1"]
