"""Writes of insight: the stored suggestion of a request, staff corrections (audited),
and retraining a community's model from its corrections (audited when adopted)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from linli.communities.models import OrgUnit
from linli.core import ratelimit
from linli.core.errors import PermissionDenied, ValidationFailed
from linli.core.types import Actor
from linli.core.writes import governed_write, lock_row
from linli.insight import classifier
from linli.insight.classifier import Model, Prediction
from linli.insight.models import CommunityModel, Correction, Suggestion
from linli.insight.suggest import model_for, suggest
from linli.requests import catalog
from linli.requests.models import ServiceRequest
from linli.requests.permissions import can_manage

log = logging.getLogger(__name__)

# A community model is trained once this many corrections exist…
MIN_CORRECTIONS = 30
# …each counting this many times against one starter text (they are the community's
# own wording, so they weigh more).
CORRECTION_WEIGHT = 3.0


def suggestion_for(req: ServiceRequest) -> Suggestion:
    """The stored suggestion of ``req``, made now with the community's model if
    there is none yet. Derived data (no audit event): recomputing gives the same."""
    existing = Suggestion.objects.filter(request=req).first()
    if existing is not None:
        return existing
    pred = suggest(req.description, community_id=req.community_id)
    row, _created = Suggestion.objects.get_or_create(
        request=req,
        defaults={
            "community_id": req.community_id,
            "category_code": pred.category or "",
            "confidence": min(1.0, max(0.0, pred.confidence)),
            "alternatives": pred.alternatives,
            "needs_human": pred.needs_human,
            "reason": pred.reason,
            "model_digest": model_for(req.community_id).digest(),
        },
    )
    return row


def classify_for_user(*, actor: Actor, text: str, community_id: int | None) -> Prediction:
    """A suggestion while a resident or staff member types (rate-limited per user)."""
    ratelimit.check("insight.classify", user=actor)
    return suggest(text, community_id=community_id)


def correction_record(
    *,
    actor: Actor,
    request: ServiceRequest,
    category_code: str,
    channel: str = "web",
    recategorise_reason: str = "",
) -> Correction:
    """Staff state the right leaf for a request's text (the suggestion was wrong, or
    right: a confirmation is a label too). One per request; a new one replaces it.

    With ``recategorise_reason`` the request itself is moved to that leaf as well (the
    requests app's 改类: its own rules, audit and timeline entry; deadlines stay), in
    the same transaction: either both happen or neither."""
    if actor is None or actor.pk is None or not can_manage(actor, request):
        raise PermissionDenied(_("只有负责该诉求的网格员、社区工作者可以更正类别。"))
    cat = catalog.active_by_code(category_code or "")
    if cat is None or catalog.has_active_children(cat.pk) or cat.parent_id is None:
        raise ValidationFailed(_("请选择一个具体的类别。"), field="category")
    ratelimit.check("insight.correct", user=actor)
    with governed_write(
        actor=actor, action="insight.correct", community_id=request.community_id
    ) as w:
        req = lock_row(ServiceRequest.objects.all(), request.pk)
        sug = suggestion_for(req)
        row, created = Correction.objects.update_or_create(
            request=req,
            defaults={
                "community_id": req.community_id,
                "text": req.description,
                "suggested_code": sug.category_code,
                "category_id": cat.pk,
                "corrected_by_id": actor.pk,
            },
        )
        w.target = row
        w.payload = {
            "request": req.pk,
            "suggested": sug.category_code,
            "category": cat.code,
            "agrees": sug.category_code == cat.code,
            "replaced": not created,
            "channel": channel,
        }
        if recategorise_reason.strip():
            if cat.pk == req.category_id:
                raise ValidationFailed(
                    _("诉求已经是这个类别，不需要改类；清空改类理由即可只记录类别。"),
                    field="reason",
                )
            from linli.requests.services import request_recategorise

            request_recategorise(
                actor=actor, request=req, category_code=cat.code, reason=recategorise_reason
            )
    return row


# ---------------------------------------------------------------- retraining


@dataclass(frozen=True)
class RetrainResult:
    community_id: int
    corrections: int
    trained: bool
    adopted: bool
    accuracy: float | None = None
    baseline_accuracy: float | None = None
    note: str = ""


@dataclass(frozen=True)
class Label:
    """A request's text with the leaf staff said it belongs to."""

    request_id: int
    text: str
    code: str


def labels_for(community: OrgUnit) -> list[Label]:
    """The community's labelled requests: every recorded correction, and every request
    moved to another leaf by 改类 without one (its category now is the staff's word;
    改类 lives in the requests app and knows nothing of learning)."""
    from linli.requests.models import EventKind

    out = [
        Label(c.request_id, c.text, c.category.code)
        for c in Correction.objects.filter(community=community)
        .select_related("category")
        .order_by("request_id")
    ]
    done = {lab.request_id for lab in out}
    moved = (
        ServiceRequest.objects.filter(community=community, events__kind=EventKind.RECATEGORISED)
        .select_related("category")
        .distinct()
        .order_by("pk")
    )
    out += [Label(r.pk, r.description, r.category.code) for r in moved if r.pk not in done]
    return sorted(out, key=lambda lab: lab.request_id)


def _split(rows: Sequence[Label]) -> tuple[list[Label], list[Label]]:
    """Deterministic 80/20 split of the labels by a hash of the request id: the 20 %
    judge the new model against the one in use."""
    train: list[Label] = []
    held: list[Label] = []
    for r in rows:
        h = int(hashlib.sha256(str(r.request_id).encode()).hexdigest()[:8], 16)
        (held if h % 5 == 0 else train).append(r)
    return train, held


def _accuracy(model: Model, rows: Sequence[dict[str, Any]]) -> float:
    preds = model.predict([r["text"] for r in rows], detect_mixed=False)
    ok = sum(classifier.is_correct(p.category, r) for p, r in zip(preds, rows, strict=True))
    return ok / max(1, len(rows))


def retrain_community(
    *,
    community: OrgUnit,
    base: Sequence[dict[str, Any]] | None = None,
    heldout: Sequence[dict[str, Any]] | None = None,
    min_corrections: int = MIN_CORRECTIONS,
    current: Model | None = None,
) -> RetrainResult:
    """Retrain ``community``'s model from the starter model's data plus its corrections
    when there are at least ``min_corrections``, and adopt it only if it is more
    accurate than the model in use on corrections neither was trained on (a fifth of
    them, split by a hash of the request id). The bundled hand-written splits are
    training data of both models now, so they cannot judge; the third held-out split
    stays for measuring only. ``base``/``heldout`` replace the starter's data and add
    judged rows (tests)."""
    rows = labels_for(community)
    if len(rows) < min_corrections:
        return RetrainResult(community.pk, len(rows), False, False, note="not enough")
    if base is not None:
        base_rows, base_weights = list(base), [1.0] * len(base)
    else:
        base_rows, base_weights = classifier.training_rows()
    train_rows, held_rows = _split(rows)
    texts = [r["text"] for r in base_rows] + [c.text for c in train_rows]
    labels = [r["label"] for r in base_rows] + [c.code for c in train_rows]
    weights = base_weights + [CORRECTION_WEIGHT] * len(train_rows)
    judge = list(heldout or []) + [{"text": c.text, "label": c.code} for c in held_rows]
    current = current if current is not None else model_for(community.pk)
    # calibration as in the model in use (the starter's, if that one predates it)
    ref = current if current.temperature is not None else classifier.starter()
    candidate = classifier.train(
        texts,
        labels,
        sample_weight=weights,
        threshold=ref.threshold,
        temperature=ref.temperature or classifier.DEFAULT_TEMPERATURE,
        meta={"kind": "community", "community": community.pk, "corrections": len(train_rows)},
    )
    acc_new = _accuracy(candidate, judge)
    acc_old = _accuracy(current, judge)
    if acc_new <= acc_old:
        log.info(
            "community %s: retrained model not better (%.3f <= %.3f)",
            community.pk,
            acc_new,
            acc_old,
        )
        return RetrainResult(community.pk, len(rows), True, False, acc_new, acc_old, "not better")
    with governed_write(actor=None, action="insight.adopt_model", community_id=community.pk) as w:
        lock_row(OrgUnit.objects.all(), community.pk)
        CommunityModel.objects.filter(community=community, is_active=True).update(is_active=False)
        row = CommunityModel.objects.create(
            community=community,
            data=candidate.to_bytes(),
            digest=candidate.digest(),
            corrections=len(rows),
            accuracy=acc_new,
            baseline_accuracy=acc_old,
            is_active=True,
        )
        w.target = row
        w.payload = {"corrections": len(rows), "accuracy": acc_new, "baseline": acc_old}
    return RetrainResult(community.pk, len(rows), True, True, acc_new, acc_old, "adopted")


def retrain_all(*, min_corrections: int = MIN_CORRECTIONS) -> list[RetrainResult]:
    from linli.requests.models import EventKind, RequestEvent

    ids = set(Correction.objects.values_list("community_id", flat=True).distinct())
    ids |= set(
        RequestEvent.objects.filter(kind=EventKind.RECATEGORISED)
        .values_list("community_id", flat=True)
        .distinct()
    )
    out = []
    for community in OrgUnit.objects.filter(pk__in=sorted(ids)).order_by("pk"):
        out.append(retrain_community(community=community, min_corrections=min_corrections))
    return out
