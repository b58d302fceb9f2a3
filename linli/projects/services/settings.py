"""Per-community settings of the fast track."""

from __future__ import annotations

from django.utils.translation import gettext as _

from linli.communities.models import OrgUnit
from linli.core.errors import PermissionDenied, ValidationFailed
from linli.core.types import Actor
from linli.core.writes import governed_write
from linli.projects.models import ProjectSettings
from linli.projects.permissions import manages

MAX_DAYS = 30


def settings_for(community_id: int) -> ProjectSettings:
    """The community's settings (defaults until someone saves them; not written)."""
    row = ProjectSettings.objects.filter(community_id=community_id).first()
    return row if row is not None else ProjectSettings(community_id=community_id)


def settings_save(
    *,
    actor: Actor,
    community: OrgUnit,
    min_households: int,
    min_budget_fen: int,
    max_budget_fen: int,
    review_days: int,
    filing_days: int,
    total_days: int,
) -> ProjectSettings:
    """Change the rules for proposals submitted from now on (earlier deadlines stay)."""
    if not manages(actor, community):
        raise PermissionDenied()
    if not 1 <= min_households <= 50:
        raise ValidationFailed(_("最少联名户数应在 1–50 之间。"), field="min_households")
    if not 0 < min_budget_fen <= max_budget_fen:
        raise ValidationFailed(_("预算下限必须大于零且不高于上限。"), field="min_budget")
    if not (1 <= review_days <= MAX_DAYS and 1 <= filing_days <= MAX_DAYS):
        raise ValidationFailed(_("每一步的时限应在 1–30 个工作日之间。"), field="review_days")
    if not 1 <= total_days <= MAX_DAYS or review_days + filing_days > total_days:
        raise ValidationFailed(
            _("各步时限之和（%(n)s 个工作日）不能超过全流程时限（%(t)s 天）。")
            % {"n": review_days + filing_days, "t": total_days},
            field="total_days",
        )
    with governed_write(
        actor=actor, action="projects.settings_save", community_id=community.pk
    ) as w:
        ProjectSettings.objects.get_or_create(community_id=community.pk)
        row = ProjectSettings.objects.select_for_update().get(community_id=community.pk)
        row.min_households = min_households
        row.min_budget_fen = min_budget_fen
        row.max_budget_fen = max_budget_fen
        row.review_days = review_days
        row.filing_days = filing_days
        row.total_days = total_days
        row.save()
        w.target = row
        w.payload = {
            "min_households": min_households,
            "min_budget_fen": min_budget_fen,
            "max_budget_fen": max_budget_fen,
            "review_days": review_days,
            "filing_days": filing_days,
            "total_days": total_days,
        }
    return row
