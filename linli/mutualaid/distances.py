"""Walking distances between the buildings of a street, precomputed.

Ranking asks "how far is this helper from the need" for every candidate of every need;
computing geometry per row would be the slow part, so the distances of every pair of
buildings in a street are stored once (``BuildingDistance``) and read per need with one
indexed query (``from_building`` = the need's building, ordered by metres).

Walking distance is estimated from the buildings' WGS-84 centres: the great-circle
distance times a detour factor (paths between blocks are rarely straight). Buildings
without coordinates have no row; the ranking treats their distance as unknown.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction

from linli.communities.models import Building, OrgUnit
from linli.mutualaid.models import BuildingDistance

EARTH_RADIUS_M = 6_371_000
# Paths between residential blocks: about a quarter longer than the straight line.
DETOUR = 1.25
# How many of the nearest buildings a provider is told to search first.
NEAR_COUNT = 40
STREET_CACHE_SECONDS = 300


def walking_metres(lat1: float, lng1: float, lat2: float, lng2: float) -> int:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return round(2 * EARTH_RADIUS_M * math.asin(math.sqrt(h)) * DETOUR)


def street_of(community_id: int) -> int | None:
    row = OrgUnit.objects.filter(pk=community_id).values_list("parent_id", "parent__kind").first()
    if row is None or row[1] != "street":
        return None
    return int(row[0])


def street_community_ids(street_id: int | None, community_id: int) -> list[int]:
    """The communities of a street. Ranking asks for every need; the answer changes
    only when communities are created, so it is cached for a few minutes."""
    if street_id is None:
        return [community_id]
    key = f"mutualaid:street-communities:{street_id}"
    ids = cache.get(key)
    if ids is None:
        ids = list(
            OrgUnit.objects.filter(parent_id=street_id, kind="community").values_list(
                "pk", flat=True
            )
        )
        cache.set(key, ids, STREET_CACHE_SECONDS)
    return list(ids)


def refresh_street(street_id: int) -> int:
    """Recompute every pair of the street's buildings; returns the number of rows.
    Run after buildings are imported or moved (the demo and the bench call it)."""
    communities = street_community_ids(street_id, 0)
    pts = [
        (b.pk, b.community_id, float(b.lat or 0), float(b.lng or 0))
        for b in Building.objects.filter(
            community_id__in=communities, lat__isnull=False, lng__isnull=False
        ).only("pk", "community_id", "lat", "lng")
    ]
    rows = [
        BuildingDistance(
            community_id=ca,
            street_id=street_id,
            from_building_id=a,
            to_building_id=b,
            metres=0 if a == b else walking_metres(la, ga, lb, gb),
        )
        for a, ca, la, ga in pts
        for b, _cb, lb, gb in pts
    ]
    with transaction.atomic():
        BuildingDistance.objects.filter(street_id=street_id).delete()
        BuildingDistance.objects.bulk_create(rows, batch_size=5000)
    # Cached distances of this process (and, with a shared cache, of every process)
    # are dropped by moving to a new version.
    try:
        cache.incr("mutualaid:distances:version")
    except ValueError:
        cache.set("mutualaid:distances:version", 2, None)
    return len(rows)


def _version() -> int:
    return int(cache.get_or_set("mutualaid:distances:version", 1, None) or 1)


def distances_from(building_id: int | None) -> dict[int, int]:
    """Metres from ``building_id`` to every building of its street, closest first: one
    indexed range scan, kept in the cache (many needs come from the same building) until
    the street's distances are recomputed."""
    if building_id is None:
        return {}
    key = f"mutualaid:distances:{_version()}:{building_id}"
    got = cache.get(key)
    if got is None:
        got = list(
            BuildingDistance.objects.filter(from_building_id=building_id)
            .order_by("metres")
            .values_list("to_building_id", "metres")
        )
        cache.set(key, got, STREET_CACHE_SECONDS)
    return dict(got)


def nearest(distances: dict[int, int], count: int = NEAR_COUNT) -> tuple[int, ...]:
    """The ``count`` closest building ids (``distances`` is already ordered)."""
    return tuple(list(distances)[:count])


def refresh_streets(street_ids: Iterable[int]) -> int:
    return sum(refresh_street(s) for s in street_ids)
