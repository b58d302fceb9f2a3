"""A community model is retrained from its corrections only when there are enough,
and adopted only when it beats the model in use on held-out data."""

from __future__ import annotations

from typing import Any

import pytest

from linli.core.models import AuditEvent
from linli.insight import classifier
from linli.insight.models import CommunityModel, Correction
from linli.insight.services import retrain_community
from linli.insight.suggest import model_for
from linli.insight.tests.conftest import subset
from linli.requests.models import Category, Channel, ServiceRequest

pytestmark = pytest.mark.django_db


def _corrections(world: Any, cats: dict[str, Category], rows: list[dict[str, Any]], *,
                 label: str | None = None) -> None:  # fmt: skip
    """Requests with staff corrections (written directly: the correction service and
    its audit are tested in test_product)."""
    reqs = ServiceRequest.objects.bulk_create(
        [
            ServiceRequest(
                community=world.community,
                category=cats[r["label"]],
                description=r["text"],
                channel=Channel.APP,
            )
            for r in rows
        ]
    )
    Correction.objects.bulk_create(
        [
            Correction(
                community=world.community,
                request=q,
                text=r["text"],
                suggested_code="",
                category=cats[label or r["label"]],
                corrected_by=world.user("worker"),
            )
            for q, r in zip(reqs, rows, strict=True)
        ]
    )


def _judge() -> list[dict[str, Any]]:
    """A third of the bundled held-out texts (written apart from the training set)."""
    return classifier.load_rows(classifier.DATA / "heldout.jsonl")[::3]


@pytest.fixture(scope="module")
def weak() -> classifier.Model:
    rows = subset(2)
    return classifier.train([r["text"] for r in rows], [r["label"] for r in rows])


def test_not_enough_corrections(world: Any, cats: Any, weak: classifier.Model) -> None:
    _corrections(world, cats, subset(1, offset=10))
    res = retrain_community(community=world.community, base=subset(2), current=weak)
    assert not res.trained and not res.adopted and res.corrections == 25
    assert not CommunityModel.objects.exists()


def test_not_adopted_when_not_better(world: Any, cats: Any, weak: classifier.Model) -> None:
    # Wrong labels: everything "corrected" to one leaf makes a worse model.
    _corrections(world, cats, subset(2, offset=4), label="li-aid")
    judge = _judge()
    res = retrain_community(
        community=world.community, base=subset(2), heldout=judge, current=weak, min_corrections=20
    )
    assert res.trained and not res.adopted
    assert res.accuracy is not None and res.baseline_accuracy is not None
    assert res.accuracy <= res.baseline_accuracy
    assert not CommunityModel.objects.exists()
    assert model_for(world.community.pk) is classifier.starter()


def test_adopted_when_better(world: Any, cats: Any, weak: classifier.Model) -> None:
    # 150 corrections: with 100 the 80/20 split by a hash of the request ids (which
    # differ between databases) sometimes left a judge set on which the better model
    # lost by a text or two (seen on PostgreSQL; also with the earlier vote). With 150
    # it wins by 9+ points for every id offset tried (0–1 500).
    _corrections(world, cats, subset(6, offset=4))
    judge = _judge()
    res = retrain_community(
        community=world.community, base=subset(2), heldout=judge, current=weak, min_corrections=20
    )
    assert res.trained and res.adopted
    assert res.accuracy is not None and res.baseline_accuracy is not None
    assert res.accuracy > res.baseline_accuracy
    row = CommunityModel.objects.get(is_active=True)
    assert row.community_id == world.community.pk and row.corrections == 150
    assert model_for(world.community.pk).digest() == row.digest
    assert AuditEvent.objects.filter(action="insight.adopt_model").count() == 1
    # Other communities keep the starter model.
    assert model_for(world.other_community.pk) is classifier.starter()


def test_recategorised_requests_are_labels(world: Any, cats: Any) -> None:
    """A request moved by 改类 is a label for learning even without a correction; a
    correction, where there is one, is the label."""
    from linli.insight.services import labels_for
    from linli.requests.services import request_recategorise

    rows = subset(1, offset=20)[:3]
    reqs = ServiceRequest.objects.bulk_create(
        [
            ServiceRequest(
                community=world.community,
                category=cats["env-ads"],
                description=r["text"],
                channel=Channel.APP,
            )
            for r in rows
        ]
    )
    for q, r in zip(reqs, rows, strict=True):
        if r["label"] != "env-ads":
            request_recategorise(
                actor=world.user("worker"), request=q, category_code=r["label"], reason="看描述"
            )
    moved = [q for q, r in zip(reqs, rows, strict=True) if r["label"] != "env-ads"]
    Correction.objects.create(
        community=world.community,
        request=moved[0],
        text=moved[0].description,
        suggested_code="",
        category=cats["li-aid"],
        corrected_by=world.user("worker"),
    )
    got = {lab.request_id: lab.code for lab in labels_for(world.community)}
    want = {q.pk: r["label"] for q, r in zip(reqs, rows, strict=True) if r["label"] != "env-ads"}
    want[moved[0].pk] = "li-aid"
    assert got == want
    assert labels_for(world.other_community) == []
