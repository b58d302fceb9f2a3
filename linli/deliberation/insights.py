"""Topics suggested from frequent requests (高频诉求 → 议题, SPEC §10): clusters of
similar recent requests in one community, and turning a cluster into a 提议 topic with
the requests attached as evidence.

A cluster is either one building (every request about it) or one category across the
community, over the last ``WINDOW_DAYS`` days, with at least ``MIN_REPORTS`` requests.
Rejected requests don't count (they were not real problems), merged duplicates do
(each is a separate report). Clusters are recomputed on the server when a topic is
created, so a form cannot attach requests that are not in the cluster.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from linli.communities.models import OrgUnit
from linli.core.errors import NotFound, PermissionDenied, ValidationFailed
from linli.core.writes import governed_write
from linli.deliberation.models import Topic, TopicEvidence
from linli.deliberation.permissions import can_manage
from linli.deliberation.services import topic_propose
from linli.requests.models import OPEN_STATUSES, ServiceRequest, Status
from linli.requests.similarity import text_similarities

WINDOW_DAYS = 30
MIN_REPORTS = 3


@dataclass
class Cluster:
    key: str  # "b<building id>" or "c<category id>"
    kind: str  # "building" | "category" | "meaning"
    label: str
    requests: list[ServiceRequest]
    open_count: int
    representative: ServiceRequest
    categories: list[tuple[str, int]]  # (name, count), most frequent first
    buildings: list[tuple[str, int]]
    topic: Topic | None = None  # the topic that already took it up
    request_ids: list[int] = field(default_factory=list)
    fresh: int = 0  # requests not yet evidence of a living topic
    previous: int | None = None  # meaning clusters: similar requests in the window before
    trend: str = ""  # meaning clusters: new / up / down / flat

    @property
    def size(self) -> int:
        return len(self.requests)


def _central(reqs: list[ServiceRequest]) -> ServiceRequest:
    """The request most similar in meaning to the others: the one that best describes
    the cluster in the suggested topic."""
    if len(reqs) > 60:  # quadratic; a large cluster's newest request is as good
        return reqs[0]
    texts = [r.description for r in reqs]
    totals = [sum(text_similarities(t, texts)) for t in texts]
    return reqs[max(range(len(reqs)), key=lambda i: (totals[i], -i))]


def _counts(values: list[str]) -> list[tuple[str, int]]:
    tally: dict[str, int] = defaultdict(int)
    for v in values:
        tally[v] += 1
    return sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))


def request_clusters(
    *,
    viewer: Any,
    community: OrgUnit,
    now: datetime | None = None,
    min_reports: int = MIN_REPORTS,
    window_days: int = WINDOW_DAYS,
    meaning: bool = False,
) -> list[Cluster]:
    """Clusters of the community's recent requests, largest first. Staff who run the
    council only (they see the requests' text). ``meaning`` adds insight's clusters
    by meaning across categories and buildings (kind "meaning", key "m<id>"), each
    with the count of similar requests in the window before (trend)."""
    if not can_manage(viewer, community):
        raise NotFound()
    now = now or timezone.now()
    reqs = list(
        ServiceRequest.objects.filter(
            community_id=community.pk, created_at__gte=now - timedelta(days=window_days)
        )
        .exclude(status=Status.REJECTED)
        .select_related("category", "building")
        .order_by("-created_at", "-id")
    )
    groups: dict[str, list[ServiceRequest]] = defaultdict(list)
    labels: dict[str, tuple[str, str]] = {}
    for r in reqs:
        groups[f"c{r.category_id}"].append(r)
        labels[f"c{r.category_id}"] = ("category", r.category.name)
        if r.building_id is not None and r.building is not None:
            groups[f"b{r.building_id}"].append(r)
            labels[f"b{r.building_id}"] = ("building", r.building.name)
    unknown = _("未注明楼栋")
    clusters = []
    for key, members in groups.items():
        if len(members) < min_reports:
            continue
        kind, label = labels[key]
        clusters.append(
            Cluster(
                key=key,
                kind=kind,
                label=label,
                requests=members,
                open_count=sum(1 for r in members if r.status in OPEN_STATUSES),
                representative=_central(members),
                categories=_counts([r.category.name for r in members]),
                buildings=_counts([r.building.name if r.building else unknown for r in members]),
                request_ids=[r.pk for r in members],
                fresh=len(members),
            )
        )
    if meaning:
        # A meaning cluster that is exactly a building or category cluster adds nothing.
        known = {frozenset(c.request_ids) for c in clusters}
        clusters += [
            m
            for m in _meaning_clusters(reqs, community, now, min_reports, window_days)
            if frozenset(m.request_ids) not in known
        ]
    _mark_taken_up(clusters, min_reports)
    clusters.sort(key=lambda c: (c.topic is not None, -c.size, -c.open_count, c.key))
    return clusters


def _meaning_clusters(
    reqs: list[ServiceRequest],
    community: OrgUnit,
    now: datetime,
    min_reports: int,
    window_days: int,
) -> list[Cluster]:
    from linli.insight.hotspots import meaning_clusters

    before = list(
        ServiceRequest.objects.filter(
            community_id=community.pk,
            created_at__gte=now - timedelta(days=2 * window_days),
            created_at__lt=now - timedelta(days=window_days),
        )
        .exclude(status=Status.REJECTED)
        .order_by("-created_at", "-id")
    )
    unknown = _("未注明楼栋")
    return [
        Cluster(
            key=h.key,
            kind="meaning",
            label=h.representative.category.name,
            requests=h.requests,
            open_count=sum(1 for r in h.requests if r.status in OPEN_STATUSES),
            representative=h.representative,
            categories=_counts([r.category.name for r in h.requests]),
            buildings=_counts([r.building.name if r.building else unknown for r in h.requests]),
            request_ids=h.request_ids,
            fresh=h.size,
            previous=h.previous,
            trend=h.trend,
        )
        for h in meaning_clusters(reqs, before, min_size=min_reports)
    ]


def _mark_taken_up(clusters: list[Cluster], min_reports: int) -> None:
    """A cluster is taken up when fewer than ``min_reports`` of its requests are not yet
    evidence of a living (not rejected) topic: there is no fresh evidence for a second
    topic. It comes back when enough new reports arrive."""
    ids = {rid for c in clusters for rid in c.request_ids}
    topic_of_request: dict[int, int] = dict(
        TopicEvidence.objects.filter(request_id__in=ids)
        .exclude(topic__step=Topic.Step.REJECTED)
        .order_by("topic_id")
        .values_list("request_id", "topic_id")
    )
    if not topic_of_request:
        return
    topics = {t.pk: t for t in Topic.objects.filter(pk__in=set(topic_of_request.values()))}
    for c in clusters:
        covered = [topic_of_request[r] for r in c.request_ids if r in topic_of_request]
        c.fresh = len(c.request_ids) - len(covered)
        if covered and c.fresh < min_reports:
            c.topic = topics[max(set(covered), key=covered.count)]


def _suggested_text(c: Cluster) -> tuple[str, str]:
    top_cat = c.categories[0][0]
    if c.kind == "building":
        title = _("%(b)s近期诉求集中：%(c)s等") % {"b": c.label, "c": top_cat}
    elif c.kind == "meaning":
        title = _("同类问题集中：%(s)s") % {"s": c.representative.description[:40]}
    else:
        title = _("高频诉求：%(c)s") % {"c": c.label}
    cats = "、".join(_("%(name)s%(n)s件") % {"name": k, "n": n} for k, n in c.categories[:5])
    where = "、".join(_("%(name)s%(n)s件") % {"name": k, "n": n} for k, n in c.buildings[:5])
    description = _(
        "来自高频诉求：近%(d)s天共收到%(n)s件相关诉求（其中%(o)s件仍在办理）。"
        "类别：%(cats)s。楼栋：%(where)s。典型反映：“%(sample)s”。"
        "建议提交议事会商议，从根本上解决。"
    ) % {
        "d": WINDOW_DAYS,
        "n": c.size,
        "o": c.open_count,
        "cats": cats,
        "where": where,
        "sample": c.representative.description[:200],
    }
    return title[:120], description


def topic_from_cluster(
    *, actor: Any, community: OrgUnit, key: str, now: datetime | None = None
) -> Topic:
    """Create a 提议 topic (source 高频诉求分析) from the cluster ``key``, with its
    requests attached as evidence, through the ordinary topic service."""
    if not can_manage(actor, community):
        raise PermissionDenied(_("只有本社区的社区工作者或书记可以把高频诉求转为议题。"))
    with governed_write(
        actor=actor, action="deliberation.topic_evidence", community_id=community.pk
    ) as w:
        # Serialise per community so two clicks cannot propose the same cluster twice.
        OrgUnit.objects.select_for_update().filter(pk=community.pk).first()
        clusters = {
            c.key: c
            for c in request_clusters(
                viewer=actor, community=community, now=now, meaning=key.startswith("m")
            )
        }
        cluster = clusters.get(key)
        if cluster is None:
            raise ValidationFailed(
                _("该诉求集中点已不满足条件（近%(d)s天至少%(n)s件），请刷新后重试。")
                % {"d": WINDOW_DAYS, "n": MIN_REPORTS}
            )
        if cluster.topic is not None:
            raise ValidationFailed(
                _("这些诉求已经转为议题“%(t)s”，无需重复提出。") % {"t": cluster.topic.title}
            )
        title, description = _suggested_text(cluster)
        topic = topic_propose(
            actor=actor,
            community=community,
            title=title,
            description=description,
            source=Topic.Source.INSIGHT,
            source_ref=f"requests:{key}",
        )
        TopicEvidence.objects.bulk_create(
            [
                TopicEvidence(topic=topic, community_id=community.pk, request_id=rid)
                for rid in cluster.request_ids
            ]
        )
        w.target = topic
        w.payload = {"cluster": key, "requests": sorted(cluster.request_ids)}
    return topic
