"""Candidate providers for needs–resources matching 需求-资源-服务匹配 (SPEC §6).

The matcher (``linli.mutualaid.matching``) ranks suggestions for a need from several
sources: volunteers of the skills pool, residents' offers and partner services live in
this app; other apps (the resource pool in ``linli.resources``) plug in by registering a
*provider* here, so this app never imports theirs and theirs never imports our models.

A provider is a plain function ``fn(query: NeedQuery) -> Iterable[Candidate]``:

* it receives the need as plain facts (no model instance): the need's community and
  street, category code, the skill codes that category maps to, the building the help is
  wanted at, the wanted time window/slots and how many candidates are wanted;
* it must do an *indexed* pre-filter itself (category/skill and community/street in the
  WHERE clause, ``LIMIT`` about ``query.limit``), never a Python loop over the whole
  table — the matcher calls every provider for every need;
* it returns ``Candidate`` facts; the matcher does the ranking (category match, walking
  distance between buildings, availability, rating/credit) and explains it.

Register in your app's ``AppConfig.ready()``::

    from linli.mutualaid.providers import register_provider
    register_provider("resource", my_resources_provider)

Category codes are ``linli.mutualaid.categories.NeedCategory`` values (e.g.
``"borrow_tool"``, ``"venue"``, ``"plumbing"``); skill codes are
``linli.volunteers.models.SkillCategory`` values; slot codes are
``linli.volunteers.models.Slot`` values (``"weekday_am"`` …).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

log = logging.getLogger(__name__)

type CandidateKind = Literal["volunteer", "offer", "partner_service", "resource"]


@dataclass(frozen=True, slots=True)
class NeedQuery:
    """What a provider is asked: the need, reduced to the facts that select candidates."""

    need_id: int | None
    community_id: int
    # Candidates shared across the street (other communities of the same street) may be
    # offered too; None when the community has no street above it.
    street_id: int | None
    category: str
    # The communities whose candidates qualify (the street's; filled by the matcher).
    community_ids: tuple[int, ...] = ()
    # Volunteer skill codes (SkillCategory values) the category maps to; may be empty.
    skills: tuple[str, ...] = ()
    # Where the help is wanted (a communities.Building id), for walking distance.
    building_id: int | None = None
    # The buildings of the street nearest to ``building_id``, closest first (from the
    # precomputed walking distances); a provider may restrict its search to them.
    near_buildings: tuple[int, ...] = ()
    # When: an explicit window, and/or the volunteer-style slots it falls in.
    wanted_from: dt.datetime | None = None
    wanted_until: dt.datetime | None = None
    slots: tuple[str, ...] = ()
    # How many candidates the provider should return at most (already ranked or not).
    limit: int = 20


@dataclass(frozen=True, slots=True)
class Candidate:
    """One possible helper / thing for a need, with the facts the ranking uses."""

    kind: CandidateKind
    id: int
    # Public-safe title: a service or item name, or the privacy display name of a person.
    title: str
    community_id: int
    # Category codes (NeedCategory values) and/or skill codes this candidate covers.
    categories: tuple[str, ...] = ()
    # The building it is at (communities.Building id); None if not at a building.
    building_id: int | None = None
    # Free-text location when there is no building (e.g. "社区服务中心").
    location: str = ""
    # Availability: True = free in the wanted window, False = known busy, None = unknown;
    # ``slots`` are the slot codes it is usually available in.
    available: bool | None = None
    slots: tuple[str, ...] = ()
    # Past ratings: mean on 1..5 and how many; credit level code ("A", "AA" …) if any.
    rating: float | None = None
    rating_count: int = 0
    credit_level: str = ""
    # Who accepts on the candidate's side (a accounts.User id), when someone must.
    owner_user_id: int | None = None
    # Link to the candidate's own page, if there is one.
    url: str = ""
    extra: dict[str, str] = field(default_factory=dict)


type Provider = Callable[[NeedQuery], Iterable[Candidate]]

_PROVIDERS: dict[str, Provider] = {}


def register_provider(name: str, fn: Provider) -> None:
    """Register ``fn`` under ``name``; registering the same name again replaces it (so an
    app's ``ready()`` running twice in tests is harmless)."""
    if not name or not callable(fn):
        raise ValueError("a provider needs a name and a callable")
    _PROVIDERS[name] = fn


def unregister_provider(name: str) -> None:
    _PROVIDERS.pop(name, None)


def providers() -> dict[str, Provider]:
    """The registered providers, by name (a copy)."""
    return dict(_PROVIDERS)


def collect(query: NeedQuery, *, only: Iterable[str] | None = None) -> list[Candidate]:
    """Ask every registered provider (or those named in ``only``) for candidates.

    A failing provider is logged and skipped: one broken source must not stop residents
    from getting the other suggestions."""
    wanted = set(only) if only is not None else None
    found: list[Candidate] = []
    for name, fn in _PROVIDERS.items():
        if wanted is not None and name not in wanted:
            continue
        try:
            found.extend(fn(query))
        except Exception:  # noqa: BLE001 - isolate third-party providers, see docstring
            log.exception("matching provider %s failed for need %s", name, query.need_id)
    return found


__all__ = [
    "Candidate",
    "CandidateKind",
    "NeedQuery",
    "Provider",
    "collect",
    "providers",
    "register_provider",
    "unregister_provider",
]
