"""How one resident appears to another person: the one place that reads the
resident's privacy settings (隐私保护模式).

Every page or API field that shows a resident's name, phone or skills to someone
other than the resident goes through these helpers:

* :func:`display_name` — the real name for the person themself, for staff of their
  community (grid worker, community worker, secretary, street officer covering it)
  and when the person opted in to ``show_name_publicly``; otherwise "1幢 彭**"
  (building + surname + two asterisks, so the length of the name is not shown either).
* :func:`phone_for` — the phone number under ``phone_visibility``.
* :func:`skills_visible` — whether the person's skills and availability may be shown
  under ``skills_visibility``.
* :func:`hall_of_fame_consented` — whether the person agreed to appear on the public
  社区名人堂.

A ``User`` without a resident record is a member of staff acting in an official
role; their display name is shown as it is.

Callers that render many people should load ``resident__privacy`` and
``resident__household__building`` (or ``privacy`` and ``household__building`` for
residents) with ``select_related`` — see :data:`USER_RELATED` and
:data:`RESIDENT_RELATED` — so the helpers issue no query per row.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from linli.accounts.scope import scope_of
from linli.communities.models import PrivacySetting, Resident
from linli.core.masking import mask_phone

# select_related paths that let the helpers run without further queries.
RESIDENT_RELATED = ("privacy", "household__building")
USER_RELATED = ("resident__privacy", "resident__household__building")

_MASK = "**"


def related(prefix: str, *, user: bool = False) -> tuple[str, ...]:
    """``select_related`` paths for a foreign key named ``prefix`` (to a User when
    ``user``, else to a Resident): ``.select_related(*related("author", user=True))``."""
    return tuple(f"{prefix}__{p}" for p in (USER_RELATED if user else RESIDENT_RELATED))


def _as_resident(person: Any) -> Resident | None:
    if person is None:
        return None
    if isinstance(person, Resident):
        return person
    try:
        return person.resident  # type: ignore[no-any-return]
    except Exception:  # RelatedObjectDoesNotExist or a non-user object
        return None


def _privacy(resident: Resident) -> PrivacySetting | None:
    try:
        return resident.privacy
    except PrivacySetting.DoesNotExist:
        return None


def _staff_roles() -> tuple[str, ...]:
    # Imported lazily: permissions imports accounts models.
    from linli.communities.permissions import ROSTER_VIEW_ROLES

    return tuple(ROSTER_VIEW_ROLES)


def is_self(resident: Resident, viewer: Any) -> bool:
    return viewer is not None and scope_of(viewer).resident_id == resident.pk


def is_community_staff(resident: Resident, viewer: Any) -> bool:
    """Staff with a role over the resident's community (read once per request)."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    return resident.community_id in scope_of(viewer).community_ids_for(*_staff_roles())


def sees_everything(resident: Resident, viewer: Any) -> bool:
    return is_self(resident, viewer) or is_community_staff(resident, viewer)


def _viewer_building_id(viewer: Any) -> int | None:
    """The building the viewing resident lives in (read once, kept on the user)."""
    mine = scope_of(viewer).resident_id if viewer is not None else None
    if mine is None:
        return None
    if getattr(viewer, "_linli_building_id", None) is None:
        viewer._linli_building_id = (
            Resident.objects.filter(pk=mine)
            .values_list("household__building_id", flat=True)
            .first()
        )
    return viewer._linli_building_id  # type: ignore[no-any-return]


def _same_building(resident: Resident, viewer: Any) -> bool:
    building_id = _viewer_building_id(viewer)
    return building_id is not None and building_id == resident.household.building_id


def _visible(resident: Resident, viewer: Any, level: str) -> bool:
    if level == PrivacySetting.Visibility.PUBLIC:
        return True
    if level == PrivacySetting.Visibility.NEIGHBOURS:
        return _same_building(resident, viewer)
    return False


def masked_name(resident: Resident) -> str:
    """Building and surname only, e.g. "1幢 彭**"."""
    surname = resident.name[:1] if resident.name else ""
    building = resident.household.building.name if resident.household_id else ""
    return f"{building} {surname}{_MASK}".strip()


def display_name(person: Any, *, viewer: Any) -> str:
    """The name of ``person`` (a Resident or a User) as ``viewer`` may see it."""
    if person is None:
        return ""
    resident = _as_resident(person)
    if resident is None:
        # Staff account acting in an official role (or a non-person object).
        return str(person)
    if sees_everything(resident, viewer):
        return resident.name
    privacy = _privacy(resident)
    if privacy is not None and privacy.show_name_publicly:
        return resident.name
    return masked_name(resident)


def phone_for(resident: Resident, *, viewer: Any) -> str:
    """The phone as ``viewer`` may see it: in full where the resident allowed it (or
    to the resident themself), masked for staff (the full number needs a grant),
    otherwise nothing."""
    if not resident.phone:
        return ""
    if is_self(resident, viewer):
        return resident.phone
    privacy = _privacy(resident)
    level = privacy.phone_visibility if privacy is not None else PrivacySetting.Visibility.STAFF
    if _visible(resident, viewer, level):
        return resident.phone
    if is_community_staff(resident, viewer):
        return mask_phone(resident.phone)
    return ""


def skills_visible(resident: Resident, *, viewer: Any) -> bool:
    """May ``viewer`` see that this resident offers skills (and who they are)?"""
    if sees_everything(resident, viewer):
        return True
    privacy = _privacy(resident)
    level = (
        privacy.skills_visibility if privacy is not None else PrivacySetting.Visibility.NEIGHBOURS
    )
    return _visible(resident, viewer, level)


def skills_visible_q(*, viewer: Any, community_id: int, prefix: str = "resident") -> Q | None:
    """The database side of :func:`skills_visible` for a list of one community's
    people (``prefix`` is the path to the Resident): None when the viewer may see
    everyone (staff of the community), else the filter to apply."""
    scope = scope_of(viewer)
    if community_id in scope.community_ids_for(*_staff_roles()):
        return None
    p = f"{prefix}__" if prefix else ""
    vis = f"{p}privacy__skills_visibility"
    q = Q(**{vis: PrivacySetting.Visibility.PUBLIC})
    if scope.resident_id is not None:
        q |= Q(**{f"{p}pk" if p else "pk": scope.resident_id})
        building_id = _viewer_building_id(viewer)
        if building_id is not None:
            neighbours = Q(**{vis: PrivacySetting.Visibility.NEIGHBOURS}) | Q(
                **{f"{p}privacy__isnull": True}
            )
            q |= neighbours & Q(**{f"{p}household__building_id": building_id})
    return q


def hall_of_fame_consented(resident: Resident) -> bool:
    privacy = _privacy(resident)
    return privacy is not None and privacy.hall_of_fame_consent


__all__ = [
    "RESIDENT_RELATED",
    "USER_RELATED",
    "display_name",
    "hall_of_fame_consented",
    "is_community_staff",
    "masked_name",
    "related",
    "phone_for",
    "skills_visible",
    "skills_visible_q",
]
