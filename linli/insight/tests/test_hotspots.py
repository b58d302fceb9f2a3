"""Hotspots by meaning: requests about the same problem group together across the
categories residents picked and the buildings, with a trend; a group becomes a
deliberation topic with its requests as evidence."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from linli.deliberation.insights import request_clusters, topic_from_cluster
from linli.deliberation.models import TopicEvidence
from linli.insight.hotspots import meaning_clusters
from linli.requests.models import ServiceRequest

pytestmark = pytest.mark.django_db

LIFTS = [
    ("fac-elevator", "电梯又坏了，停在三楼不动"),
    ("ho-service", "在电梯里关了二十分钟才出来，物业电话打不通"),
    ("sa-fire", "电梯按了没反应，门也打不开，老人下不了楼"),
    ("fac-elevator", "电梯上下咣当响，晃得厉害"),
]


@pytest.fixture
def reqs(world: Any, submit: Any, settings: Any) -> dict[str, list[ServiceRequest]]:
    settings.LINLI_RATE_LIMITS_ENABLED = False
    b1, b2 = world.building, world.building2
    lifts = [
        submit(code, text, building=b1 if i % 2 else b2) for i, (code, text) in enumerate(LIFTS)
    ]  # noqa: E501
    other = [
        submit("di-pet", "楼下的狗一晚上叫个不停", building=b1),
        submit("env-garbage", "单元门口的桶满了三天没人收", building=b2),
    ]
    old = submit("fac-elevator", "电梯坏了（上个月）", building=b1)
    ServiceRequest.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    return {"lifts": lifts, "other": other, "old": [old]}


def test_meaning_clusters_cross_categories(reqs: dict[str, list[ServiceRequest]]) -> None:
    current = [*reqs["lifts"], *reqs["other"]]
    got = meaning_clusters(current, reqs["old"], min_size=3)
    assert len(got) == 1
    h = got[0]
    assert sorted(h.request_ids) == sorted(r.pk for r in reqs["lifts"])
    assert h.key == f"m{min(h.request_ids)}" and h.previous == 1 and h.trend == "up"
    assert {name for name, _n in h.categories} >= {"电梯故障", "物业服务质量"}
    assert meaning_clusters(current[:2], min_size=3) == []


def test_meaning_cluster_becomes_a_topic(world: Any, reqs: dict[str, list[ServiceRequest]]) -> None:  # noqa: E501
    sec = world.user("secretary")
    clusters = request_clusters(viewer=sec, community=world.community, meaning=True)
    meaning = [c for c in clusters if c.kind == "meaning"]
    assert len(meaning) == 1 and meaning[0].trend == "up"
    assert not [
        c for c in request_clusters(viewer=sec, community=world.community) if c.kind == "meaning"
    ]  # noqa: E501
    topic = topic_from_cluster(actor=sec, community=world.community, key=meaning[0].key)
    assert sorted(
        TopicEvidence.objects.filter(topic=topic).values_list("request_id", flat=True)
    ) == sorted(r.pk for r in reqs["lifts"])  # noqa: E501
    assert "同类问题集中" in topic.title
