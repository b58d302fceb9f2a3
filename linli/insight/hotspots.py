"""Hotspots: groups of recent requests that are about the same problem by MEANING
(not only the same category or building), with a trend against the period before.

Average-linkage clustering of the requests on ``1 - semantic similarity`` (e5
embeddings + category agreement, ``semantic.py``), cut where the members of a group
are on average as similar as two reports of the same problem. A group's key is
``m<lowest request id>`` so the same requests give the same key on the page and when
staff turn it into a deliberation topic (the server recomputes it then).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from linli.insight import semantic
from linli.requests.models import ServiceRequest

# Mean similarity inside a group: a little looser than a duplicate (same problem,
# several places of the community).
CLUSTER_SIMILARITY = 0.60
MAX_REQUESTS = 300  # the newest ones in the period; clustering is quadratic


@dataclass
class Hotspot:
    key: str
    requests: list[ServiceRequest]
    previous: int  # similar requests in the period before
    representative: ServiceRequest
    categories: list[tuple[str, int]] = field(default_factory=list)
    buildings: list[tuple[str, int]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.requests)

    @property
    def trend(self) -> str:
        """ "new", "up", "down" or "flat" against the period before."""
        if self.previous == 0:
            return "new"
        if self.size >= self.previous * 1.25:
            return "up"
        if self.size <= self.previous * 0.75:
            return "down"
        return "flat"

    @property
    def request_ids(self) -> list[int]:
        return [r.pk for r in self.requests]


def groups_by_similarity(sim: np.ndarray, cut: float = CLUSTER_SIMILARITY) -> list[list[int]]:
    """Average-linkage groups of the rows of a similarity matrix, cut where the mean
    similarity inside a group falls below ``cut``."""
    n = len(sim)
    if n == 1:
        return [[0]]
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    dist = np.clip(1.0 - sim, 0.0, 1.0)
    np.fill_diagonal(dist, 0.0)
    dist = (dist + dist.T) / 2
    z = linkage(squareform(dist, checks=False), method="average")
    labels = fcluster(z, t=1.0 - cut, criterion="distance")
    out: dict[int, list[int]] = {}
    for i, lab in enumerate(labels):
        out.setdefault(int(lab), []).append(i)
    return list(out.values())


def meaning_clusters(
    current: Sequence[ServiceRequest],
    previous: Sequence[ServiceRequest] = (),
    *,
    min_size: int = 3,
) -> list[Hotspot]:
    """Groups of at least ``min_size`` requests among ``current``, largest first."""
    cur = list(current)[:MAX_REQUESTS]
    if len(cur) < min_size:
        return []
    prev = list(previous)[:MAX_REQUESTS]
    emb, probs = semantic.vectors([r.description for r in cur + prev])
    sim_all = semantic.similarity_matrix(emb, probs)
    n = len(cur)
    sim = sim_all[:n, :n]
    out: list[Hotspot] = []
    for idx in groups_by_similarity(sim):
        if len(idx) < min_size:
            continue
        members = [cur[i] for i in idx]
        inner = sim[np.ix_(idx, idx)].sum(axis=1)
        rep = members[int(np.argmax(inner))]
        before = 0
        if prev:
            # A request of the period before counts when it is on average as close to
            # the group as the group's own members are to each other.
            to_group = sim_all[n:, idx].mean(axis=1)
            before = int((to_group >= CLUSTER_SIMILARITY).sum())
        members.sort(key=lambda r: (-r.created_at.timestamp(), -r.pk))
        out.append(
            Hotspot(
                key=f"m{min(r.pk for r in members)}",
                requests=members,
                previous=before,
                representative=rep,
                categories=Counter(r.category.name for r in members).most_common(),
                buildings=Counter(
                    r.building.name if r.building else "—" for r in members
                ).most_common(),
            )
        )
    out.sort(key=lambda h: (-h.size, h.key))
    return out
