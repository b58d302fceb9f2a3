"""Writes of the inputs: the published criteria and the community inspections."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError
from django.db.models import Max
from django.utils.translation import gettext as _

from linli.communities.models import Building
from linli.core import idempotency, ratelimit
from linli.core.errors import Conflict, PermissionDenied, ValidationFailed
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import governed_write
from linli.propertyco.models import COMPONENT_KEYS, Board, BoardStatus, Criteria, Inspection
from linli.propertyco.permissions import can_publish_criteria, can_record_inspection
from linli.propertyco.quarters import Quarter, today

INSPECT_LIMIT = "propertyco.inspect"
CRITERIA_LIMIT = "propertyco.criteria"
ratelimit.LIMITS.setdefault(INSPECT_LIMIT, {"user": ratelimit.Limit(per_minute=20, per_day=300)})
ratelimit.LIMITS.setdefault(CRITERIA_LIMIT, {"user": ratelimit.Limit(per_minute=5, per_day=50)})

MAX_ITEMS = 30
MAX_PHOTO = 5 * 1024 * 1024
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")


def _int(raw: Any, *, field: str, label: str, low: int = 0, high: int = 100) -> int:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise ValidationFailed(
            _("%(label)s须为 %(low)s–%(high)s 的整数。")
            % {"label": label, "low": low, "high": high},
            field=field,
        ) from None
    if not low <= value <= high:
        raise ValidationFailed(
            _("%(label)s须为 %(low)s–%(high)s 的整数。")
            % {"label": label, "low": low, "high": high},
            field=field,
        )
    return value


def _score(raw: Any, *, field: str, label: str) -> Decimal:
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, TypeError, ValueError):
        value = Decimal(-1)
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(100):
        raise ValidationFailed(_("%(label)s须为 0–100 的分数。") % {"label": label}, field=field)
    return value.quantize(Decimal("0.01"))


def criteria_publish(
    *,
    actor: Actor,
    weights: dict[str, Any],
    min_sample: Any = 10,
    red_percent: Any = 20,
    red_min_score: Any = 85,
    black_percent: Any = 10,
    black_below: Any = 70,
    note: str = "",
) -> Criteria:
    """Publish a new version of the scoring rule. Weights are whole percentages, one
    for each part, and must add up to exactly 100; earlier versions stay as they were
    (each score names its version)."""
    if not can_publish_criteria(actor):
        raise PermissionDenied(_("只有平台管理员可以发布评分标准。"))
    unknown = set(weights) - set(COMPONENT_KEYS)
    if unknown:
        raise ValidationFailed(
            _("未知的评分项：%(keys)s。") % {"keys": "、".join(sorted(unknown))}, field="weights"
        )
    w = {k: _int(weights.get(k, 0), field=f"w_{k}", label=_("权重")) for k in COMPONENT_KEYS}
    total = sum(w.values())
    if total != 100:
        raise ValidationFailed(
            _("各项权重之和必须等于 100%%，现在是 %(total)s%%。") % {"total": total},
            field="weights",
            code="weights_sum",
        )
    fields: dict[str, Any] = {
        "min_sample": _int(
            min_sample, field="min_sample", label=_("最少样本数"), low=1, high=10000
        ),
        "red_percent": _int(red_percent, field="red_percent", label=_("红榜比例")),
        "black_percent": _int(black_percent, field="black_percent", label=_("黑榜比例")),
        "red_min_score": _score(red_min_score, field="red_min_score", label=_("红榜最低分")),
        "black_below": _score(black_below, field="black_below", label=_("黑榜分数线")),
    }
    if fields["black_below"] > fields["red_min_score"]:
        raise ValidationFailed(_("黑榜分数线不能高于红榜最低分。"), field="black_below")
    note = within(note, field="note", limit=500, label=_("说明"))
    ratelimit.check(CRITERIA_LIMIT, user=actor)
    try:
        with governed_write(
            actor=actor, action="propertyco.criteria_published", community_id=None
        ) as wr:
            latest = Criteria.objects.aggregate(m=Max("version"))["m"] or 0
            c = Criteria.objects.create(
                version=latest + 1,
                **{f"w_{k}": v for k, v in w.items()},
                **fields,
                note=note,
                published_by_id=getattr(actor, "pk", None),
            )
            wr.target = c
            wr.payload.update({"version": c.version, "weights": w})
    except IntegrityError:
        raise Conflict(_("另一版本的评分标准刚刚发布，请刷新后重试。")) from None
    return c


@dataclass(frozen=True)
class Item:
    item: str
    passed: bool


def _clean_items(items: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for raw in items or []:
        passed: Any
        if isinstance(raw, Item):
            label, passed = raw.item, raw.passed
        elif isinstance(raw, dict):
            label, passed = str(raw.get("item", "")), raw.get("passed")
        else:
            label, passed = str(raw[0]), raw[1]
        label = within(label, field="items", limit=40, label=_("检查项目"))
        if not label:
            continue
        if not isinstance(passed, bool):
            raise ValidationFailed(
                _("请为检查项目“%(item)s”选择合格或不合格。") % {"item": label}, field="items"
            )
        out.append({"item": label, "passed": passed})
    if not out:
        raise ValidationFailed(_("请至少填写一个检查项目并选择是否合格。"), field="items")
    if len(out) > MAX_ITEMS:
        raise ValidationFailed(_("检查项目最多 %(n)s 项。") % {"n": MAX_ITEMS}, field="items")
    return out


def inspection_record(
    *,
    actor: Actor,
    building: Building,
    inspected_on: date | None,
    items: list[Any],
    note: str = "",
    photo: UploadedFile | None = None,
    idempotency_key: str = "",
) -> Inspection:
    """Record a community inspection of ``building``'s property services. The day may
    not be in the future nor in a quarter whose 红黑榜 is already published (no
    back-dating into history). Idempotent on ``idempotency_key``."""
    if not can_record_inspection(actor, building.community_id):
        raise PermissionDenied(
            _("只有本社区的网格员、社区工作者、书记或本街道的街道干部可以记录物业检查。")
        )
    key = idempotency.clean(idempotency_key)
    if building.property_company_id is None:
        raise ValidationFailed(_("该楼栋没有登记物业公司，无需检查。"), field="building")
    if inspected_on is None:
        raise ValidationFailed(_("请填写检查日期。"), field="inspected_on")
    if inspected_on > today():
        raise ValidationFailed(_("检查日期不能晚于今天。"), field="inspected_on")
    q = Quarter.of(inspected_on)
    from linli.communities.models import OrgUnit

    street_id = (
        OrgUnit.objects.filter(pk=building.community_id).values_list("parent_id", flat=True).first()
    )
    if Board.objects.filter(
        street_id=street_id, year=q.year, quarter=q.q, status=BoardStatus.PUBLISHED
    ).exists():
        raise ValidationFailed(
            _("%(quarter)s的红黑榜已公布，不能再补录该季度的检查。") % {"quarter": q.label},
            field="inspected_on",
        )
    rows = _clean_items(items)
    note = within(note, field="note", limit=1000, label=_("检查说明"))
    if photo is not None:
        if photo.size and photo.size > MAX_PHOTO:
            raise ValidationFailed(_("照片不能超过 5 MB。"), field="photo")
        if (photo.content_type or "") not in PHOTO_TYPES:
            raise ValidationFailed(_("照片须为 JPEG、PNG 或 WebP 图片。"), field="photo")
    actor_pk: int = getattr(actor, "pk", 0)
    ratelimit.check(INSPECT_LIMIT, user=actor)
    with governed_write(
        actor=actor, action="propertyco.inspection_recorded", community_id=building.community_id
    ) as w:
        passed = sum(1 for r in rows if r["passed"])
        ins = Inspection(
            community_id=building.community_id,
            building=building,
            company_id=building.property_company_id,
            inspected_on=inspected_on,
            inspector_id=actor_pk,
            items=rows,
            passed=passed,
            total=len(rows),
            note=note,
            idempotency_key=key,
        )
        if photo is not None:
            ins.photo.save(photo.name or "photo.jpg", photo, save=False)
        prior = idempotency.replayed(
            w, ins, key=key, owned=lambda i: i.inspector_id == getattr(actor, "pk", None)
        )
        if prior is not None:
            return prior
        w.target = ins
        w.payload.update(
            {
                "building": building.pk,
                "company": building.property_company_id,
                "passed": passed,
                "total": len(rows),
            }
        )
    return ins
