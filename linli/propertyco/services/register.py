"""The register's appeal step: the company appeals with a written reason; a street
officer of the street (or the platform admin) upholds or revokes, with a reason."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core.errors import ValidationFailed
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import Write
from linli.propertyco.models import RegisterEntry
from linli.propertyco.services import _notify
from linli.propertyco.states import ENTRY


def entry_appeal(*, actor: Actor, entry: RegisterEntry, reason: str) -> RegisterEntry:
    text = within(reason, field="reason", limit=1000, label=_("申诉理由"))

    def effects(row: RegisterEntry, w: Write) -> None:
        row.appeal_reason = text
        row.appealed_by = actor if getattr(actor, "pk", None) else None  # type: ignore[assignment]
        row.appealed_at = timezone.now()
        _notify.notify(
            w,
            _notify.street_officers(row),
            _("物业公司对不良名录提出申诉，请复核：%(reason)s") % {"reason": text[:100]},
        )

    return ENTRY.apply(actor=actor, obj=entry, action="appeal", reason=text, effects=effects)


def entry_decide(
    *, actor: Actor, entry: RegisterEntry, decision: str, reason: str
) -> RegisterEntry:
    """``decision``: "uphold" (the listing stands) or "revoke" (taken off)."""
    if decision not in ("uphold", "revoke"):
        raise ValidationFailed(_("请选择复核结论：维持或撤销。"), field="decision")
    text = within(reason, field="reason", limit=1000, label=_("复核意见"))

    def effects(row: RegisterEntry, w: Write) -> None:
        row.decision_reason = text
        row.decided_by = actor if getattr(actor, "pk", None) else None  # type: ignore[assignment]
        row.decided_at = timezone.now()
        verdict = _("申诉成立，已撤销列入") if decision == "revoke" else _("申诉驳回，维持列入")
        _notify.notify(
            w,
            _notify.company_staff(row),
            _("不良名录申诉复核结果：%(verdict)s。复核意见：%(reason)s")
            % {"verdict": verdict, "reason": text[:100]},
        )

    return ENTRY.apply(actor=actor, obj=entry, action=decision, reason=text, effects=effects)
