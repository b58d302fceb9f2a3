"""Every assessment write: weight sets, expert scores, monthly snapshots and their
recomputation (each through the shared write path, with its audit event)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import Membership, Role
from linli.assessment import indicators, scoring
from linli.assessment.models import ExpertScore, Snapshot, UnitMonth, WeightSet
from linli.assessment.periods import Period, last_complete_month
from linli.assessment.permissions import can_recompute, can_score, can_set_weights
from linli.communities.models import OrgUnit
from linli.core import idempotency, ratelimit
from linli.core.errors import Conflict, PermissionDenied, ValidationFailed
from linli.core.notify import Message
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import governed_write, insert_or_skip, lock_row

ratelimit.LIMITS.setdefault(
    "assessment.write", {"user": ratelimit.Limit(per_minute=20, per_day=500)}
)

WEIGHT_FIELDS = (
    "w_satisfaction",
    "w_participation",
    "w_conflict",
    "w_awareness",
    "w_normativity",
    "w_openness",
    "outcome_share",
    "resident_share",
    "min_sample",
)
DEFAULTS = {
    "w_satisfaction": 40,
    "w_participation": 30,
    "w_conflict": 30,
    "w_awareness": 40,
    "w_normativity": 30,
    "w_openness": 30,
    "outcome_share": 70,
    "resident_share": 60,
    "min_sample": 30,
}


def default_weights() -> WeightSet:
    """The platform default (SPEC §8: 40/30/30, residents 60 % of satisfaction),
    created on first use."""
    ws = WeightSet.objects.filter(district__isnull=True).order_by("-version").first()
    if ws is None:
        insert_or_skip(WeightSet(district=None, version=1, note="SPEC §8 默认权重", **DEFAULTS))
        ws = WeightSet.objects.filter(district__isnull=True).order_by("-version").first()
    assert ws is not None
    return ws


def weights_for(district_id: int | None) -> WeightSet:
    """The weight set in force for a district now: its latest version, else the
    platform default."""
    if district_id is not None:
        ws = WeightSet.objects.filter(district_id=district_id).order_by("-version").first()
        if ws is not None:
            return ws
    return default_weights()


def _int(value: Any, field: str, label: str, lo: int, hi: int) -> int:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationFailed(_("%(f)s须为整数。") % {"f": label}, field=field) from None
    if not lo <= n <= hi:
        raise ValidationFailed(
            _("%(f)s须在 %(lo)d 到 %(hi)d 之间。") % {"f": label, "lo": lo, "hi": hi},
            field=field,
        )
    return n


def weights_create(
    *,
    actor: Actor,
    district: OrgUnit | None,
    values: dict[str, Any],
    note: str = "",
    idempotency_key: str = "",
) -> WeightSet:
    """A new version of a district's weights (the old versions stay, and the scores
    they produced keep naming them). Each group must add up to 100 %."""
    if not can_set_weights(actor, district):
        raise PermissionDenied(_("只有区级考核负责人或平台管理员可以设置考核权重。"))
    labels = {f.name: str(f.verbose_name) for f in WeightSet._meta.fields}
    clean = {
        k: _int(
            values.get(k, DEFAULTS[k]),
            k,
            labels[k],
            1 if k == "min_sample" else 0,
            10_000 if k == "min_sample" else 100,
        )
        for k in WEIGHT_FIELDS
    }
    outcome = clean["w_satisfaction"] + clean["w_participation"] + clean["w_conflict"]
    if outcome != 100:
        raise ValidationFailed(
            _("结果指标的三项权重之和须为 100%%，现在是 %(n)d%%。") % {"n": outcome},
            field="w_satisfaction",
        )
    process = clean["w_awareness"] + clean["w_normativity"] + clean["w_openness"]
    if process != 100:
        raise ValidationFailed(
            _("过程指标的三项权重之和须为 100%%，现在是 %(n)d%%。") % {"n": process},
            field="w_awareness",
        )
    note = within(note.strip(), field="note", limit=300, label=_("说明"))
    key = idempotency.clean(idempotency_key)
    ratelimit.check("assessment.write", user=actor)
    with governed_write(actor=actor, action="assessment.weights", community_id=None) as w:
        if district is not None:
            lock_row(OrgUnit.objects.all(), district.pk)  # one version number at a time
        if key:
            earlier = WeightSet.objects.filter(created_by_id=actor.pk, idempotency_key=key).first()  # type: ignore[union-attr]
            if earlier is not None:
                if earlier.district_id != getattr(district, "pk", None):
                    raise Conflict(
                        _("该请求编号已被使用，请刷新页面后重试。"), code="idempotency_conflict"
                    )
                w.record = False
                return earlier
        last = WeightSet.objects.filter(
            district=district, **({} if district is not None else {"district__isnull": True})
        ).aggregate(v=Max("version"))["v"]
        ws = WeightSet.objects.create(
            district=district,
            version=(last or 0) + 1,
            note=note,
            idempotency_key=key,
            created_by=actor if getattr(actor, "pk", None) else None,  # type: ignore[misc]
            **clean,
        )
        w.target = ws
        w.payload = {"district": getattr(district, "pk", None), "version": ws.version, **clean}
    return ws


def expert_score_record(
    *,
    actor: Actor,
    community: OrgUnit,
    month: date,
    kind: str,
    score: Any,
    basis: str,
) -> ExpertScore:
    """专业评估 / 第三方测评 for a month that has ended. One per assessor, kind and
    month: a second entry for the same is refused (a correction is a recomputation
    matter, not an overwrite)."""
    if not can_score(actor, community):
        raise PermissionDenied(_("只有覆盖该社区的街道干部或监督员可以录入专业评估。"))
    if kind not in ExpertScore.Kind.values:
        raise ValidationFailed(_("请选择评估类型。"), field="kind")
    points = _int(score, "score", _("得分"), 0, 100)
    month = month.replace(day=1)
    if month > last_complete_month().start:
        raise ValidationFailed(_("只能对已结束的月份评分。"), field="month")
    text = within(basis.strip(), field="basis", limit=2000, label=_("评分依据"))
    if len(text) < 4:
        raise ValidationFailed(_("请写明评分依据（至少 4 个字）。"), field="basis")
    ratelimit.check("assessment.write", user=actor)
    with governed_write(
        actor=actor, action="assessment.expert_score", community_id=community.pk
    ) as w:
        row = ExpertScore(
            community=community,
            month=month,
            kind=kind,
            score=points,
            basis=text,
            assessor=actor,  # type: ignore[misc]
        )
        if not insert_or_skip(row):
            earlier = ExpertScore.objects.get(
                community=community,
                month=month,
                kind=kind,
                assessor=actor,  # type: ignore[misc]
            )
            if earlier.score != points or earlier.basis != text:
                raise ValidationFailed(_("您已录入过该社区该月的此类评估。"), field="month")
            w.record = False  # the same entry sent again: nothing new to record
            return earlier
        w.target = row
        w.payload = {"month": month.isoformat(), "kind": kind, "score": points}
    return row


# ----------------------------------------------------------------------- snapshots


@dataclass(frozen=True)
class SnapshotRun:
    month: date
    created: int
    skipped: int
    communities: int


def _hierarchy(community_ids: Iterable[int] | None) -> dict[int, tuple[int, int]]:
    """community id → (street id, district id), from the paths."""
    qs = OrgUnit.objects.filter(kind=OrgUnit.Kind.COMMUNITY)
    if community_ids is not None:
        qs = qs.filter(pk__in=list(community_ids))
    out = {}
    for pk, path in qs.values_list("pk", "path"):
        parts = [int(x) for x in path.strip("/").split("/")]
        # city / district / street / community
        out[pk] = (parts[-2], parts[-3])
    return out


def _build(
    cid: int,
    street: int,
    district: int,
    month: date,
    data: indicators.MonthData,
    ws: WeightSet,
    now: datetime,
) -> Snapshot:
    figs = data.figures[cid]
    s = scoring.compute(figs, scoring.Weights.of(ws))
    return Snapshot(
        community_id=cid,
        street_id=street,
        district_id=district,
        month=month,
        weight_set=ws,
        definitions=indicators.DEFINITIONS_VERSION,
        figures=figs,
        detail=data.detail[cid],
        score=s.score,
        ci_low=s.ci_low,
        ci_high=s.ci_high,
        sample=s.sample,
        computed_at=now,
    )


def snapshot_month(
    *,
    month: date,
    community_ids: Iterable[int] | None = None,
    now: datetime | None = None,
    notify: bool = True,
) -> SnapshotRun:
    """Take the monthly snapshot of every community (or those given) that has none
    for ``month`` yet — the scheduled task. Existing snapshots are kept as they are:
    a month already taken is never recomputed here (see :func:`snapshot_recompute`).
    Refuses a month that has not ended."""
    from linli.requests import stats

    now = now or timezone.now()
    month = month.replace(day=1)
    if indicators.next_month(month) > timezone.localtime(now).date():
        raise ValidationFailed(_("该月尚未结束，结束后才能生成考核快照。"), field="month")
    tree = _hierarchy(community_ids)
    have = set(
        Snapshot.objects.filter(month=month, community_id__in=list(tree)).values_list(
            "community_id", flat=True
        )
    )
    todo = sorted(set(tree) - have)
    if not todo:
        return SnapshotRun(month, 0, len(have), len(tree))
    stats.refresh(community_ids=todo)
    data = indicators.month_figures(todo, month)
    by_district: dict[int, list[int]] = defaultdict(list)
    for cid in todo:
        by_district[tree[cid][1]].append(cid)
    created = 0
    for district_id, cids in sorted(by_district.items()):
        ws = weights_for(district_id)
        with governed_write(actor=None, action="assessment.snapshot", community_id=None) as w:
            rows = [_build(c, *tree[c], month, data, ws, now) for c in cids]
            made = Snapshot.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
            created += len(made)
            w.payload = {
                "month": month.isoformat(),
                "district": district_id,
                "communities": len(cids),
                "weights": ws.pk,
                "definitions": indicators.DEFINITIONS_VERSION,
            }
            if notify:
                for msg in _street_reports(cids, tree, month):
                    w.notify(msg)
            rollup(month=month, district_ids=[district_id], now=now)
    return SnapshotRun(month, created, len(have), len(tree))


def _street_reports(
    cids: list[int], tree: dict[int, tuple[int, int]], month: date
) -> list[Message]:
    """The scheduled monthly export: each street's officers are told the month's
    report is ready, with the links to the Excel workbook and the A4 PDF."""
    streets = sorted({tree[c][0] for c in cids})
    key = f"{month:%Y-%m}"
    out = []
    for street_id, username in (
        Membership.objects.active()
        .filter(role=Role.STREET_OFFICER, unit_id__in=streets)
        .values_list("unit_id", "user__username")
        .order_by("unit_id", "user__username")
    ):
        xlsx = reverse("assessment:export", args=[street_id, "xlsx"]) + f"?period={key}"
        pdf = reverse("assessment:export", args=[street_id, "pdf"]) + f"?period={key}"
        out.append(
            Message(
                "inapp",
                username,
                _("月度考核报表"),
                _("%(m)s 考核快照已生成。Excel：%(x)s  PDF：%(p)s")
                % {"m": key, "x": xlsx, "p": pdf},
            )
        )
    return out


def snapshot_recompute(
    *, actor: Actor, community: OrgUnit, period: Period, reason: str, now: datetime | None = None
) -> Snapshot:
    """Recompute one community's month with the weights in force now, as a new
    revision; the earlier revision is kept (no longer current) and the reason is
    published with the score."""
    if not can_recompute(actor, community):
        raise PermissionDenied(_("只有覆盖该社区的街道干部可以重新计算考核结果。"))
    if period.kind != "month":
        raise ValidationFailed(_("只能按月重新计算。"), field="period")
    why = within(reason.strip(), field="reason", limit=500, label=_("重算原因"))
    if len(why) < 4:
        raise ValidationFailed(_("请写明重新计算的原因（至少 4 个字）。"), field="reason")
    ratelimit.check("assessment.write", user=actor)
    from linli.requests import stats

    now = now or timezone.now()
    month = period.start
    tree = _hierarchy([community.pk])
    street, district = tree[community.pk]
    stats.refresh(community_ids=[community.pk])
    data = indicators.month_figures([community.pk], month)
    ws = weights_for(district)
    with governed_write(actor=actor, action="assessment.recompute", community_id=community.pk) as w:
        old = (
            Snapshot.objects.select_for_update()
            .filter(community=community, month=month, current=True)
            .first()
        )
        row = _build(community.pk, street, district, month, data, ws, now)
        if (
            old is not None
            and old.reason == why
            and old.weight_set_id == ws.pk
            and old.figures == row.figures
        ):
            # The same recomputation sent again (a double click, a retried request):
            # nothing would change, so no new revision and nothing to record.
            w.record = False
            return old
        row.revision = (old.revision + 1) if old else 1
        row.reason = why
        row.computed_by = actor  # type: ignore[assignment]
        if old is not None:
            Snapshot.objects.filter(pk=old.pk).update(current=False)
        row.save(force_insert=True)
        rollup(month=month, district_ids=[district], now=now)
        w.target = row
        w.payload = {
            "month": month.isoformat(),
            "revision": row.revision,
            "previous_score": str(old.score) if old and old.score is not None else None,
            "score": str(row.score) if row.score is not None else None,
            "weights": ws.pk,
            "reason": why,
        }
    return row


# ------------------------------------------------------------------------- rollups


def _merge_detail(into: dict[str, Any], d: dict[str, Any]) -> None:
    for key in ("categories", "participation_by"):
        acc = into.setdefault(key, {})
        for k, v in (d.get(key) or {}).items():
            acc[k] = acc.get(k, 0) + int(v)
    for key in ("sla", "funnel"):
        vals = d.get(key) or []
        acc_l = into.setdefault(key, [0] * len(vals))
        if len(acc_l) < len(vals):
            acc_l.extend([0] * (len(vals) - len(acc_l)))
        for i, v in enumerate(vals):
            acc_l[i] += int(v)


def rollup(*, month: date, district_ids: Iterable[int], now: datetime | None = None) -> int:
    """Rebuild the month's sums for the streets and districts given and the city above
    them, from their communities' current snapshots (one read of the city's month).
    Precondition: inside the write that changed those snapshots."""
    now = now or timezone.now()
    districts = list(OrgUnit.objects.filter(pk__in=list(district_ids)))
    city_paths = {"/" + d.path.strip("/").split("/")[0] + "/" for d in districts}
    cities = list(OrgUnit.objects.filter(path__in=city_paths, kind=OrgUnit.Kind.CITY))
    under = Q(pk__in=[])
    for path in city_paths:
        under |= Q(path__startswith=path)
    in_city = OrgUnit.objects.filter(under, kind=OrgUnit.Kind.DISTRICT)
    touched = {d.pk for d in districts}
    buckets: dict[int, dict[str, Any]] = {}

    def add(unit_id: int, figs: dict[str, Any], detail: dict[str, Any], ws: int) -> None:
        b = buckets.setdefault(unit_id, {"figs": [], "detail": {}, "n": 0, "ws": 0})
        b["figs"].append(figs)
        _merge_detail(b["detail"], detail)
        b["n"] += 1
        b["ws"] = max(b["ws"], ws)

    district_city = {
        pk: int(path.strip("/").split("/")[0]) for pk, path in in_city.values_list("pk", "path")
    }
    rows = Snapshot.objects.filter(
        current=True, month=month, district_id__in=list(district_city)
    ).values_list("street_id", "district_id", "figures", "detail", "weight_set_id")
    for street_id, district_id, figs, detail, ws in rows.iterator(chunk_size=500):
        add(district_city[district_id], figs, detail, ws)
        if district_id in touched:
            add(district_id, figs, detail, ws)
            add(street_id, figs, detail, ws)
    wanted = touched | {c.pk for c in cities}
    wanted |= set(
        OrgUnit.objects.filter(parent_id__in=touched, kind=OrgUnit.Kind.STREET).values_list(
            "pk", flat=True
        )
    )
    n = 0
    for unit_id in sorted(wanted):
        b = buckets.get(unit_id)
        if b is None:
            UnitMonth.objects.filter(unit_id=unit_id, month=month).delete()
            continue
        UnitMonth.objects.update_or_create(
            unit_id=unit_id,
            month=month,
            defaults={
                "figures": scoring.add_figures(b["figs"]),
                "detail": b["detail"],
                "communities": b["n"],
                "weight_set_id": b["ws"] or None,
                "computed_at": now,
            },
        )
        n += 1
    return n
