"""The periodic sweep: follow-up visits that fall due (回访, 30 days after an
agreement) and the reminder to the parties before their 30-day window for judicial
confirmation closes (人民调解法 art. 33). Each reminder goes out once per case; the
sweep is safe to run as often as wanted (``manage.py mediation_sweep``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core.notify import Message
from linli.core.writes import governed_write
from linli.mediation.models import CONFIRMATION_WINDOW_DAYS, Case, Outcome, Status
from linli.mediation.services._common import mediator_usernames, party_phones, tell_staff

# The confirmation reminder goes out this many days before the window closes.
CONFIRMATION_REMIND_BEFORE = 7


@dataclass
class SweepResult:
    followups: int = 0
    confirmations: int = 0
    case_ids: list[int] = field(default_factory=list)


def sweep_reminders(*, now: datetime | None = None) -> SweepResult:
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    out = SweepResult()
    agreed = Case.objects.filter(status=Status.CLOSED, outcome=Outcome.AGREEMENT)
    due_ids = list(
        agreed.filter(followup_due__lte=today, followup_reminded_at__isnull=True).values_list(
            "community_id", "pk"
        )
    )
    window_start = today - timedelta(days=CONFIRMATION_WINDOW_DAYS)
    remind_from = today - timedelta(days=CONFIRMATION_WINDOW_DAYS - CONFIRMATION_REMIND_BEFORE)
    confirm_ids = list(
        Case.objects.filter(
            outcome=Outcome.AGREEMENT,
            confirmation_reminded_at__isnull=True,
            agreement_effective_on__gte=window_start,
            agreement_effective_on__lte=remind_from,
        ).values_list("community_id", "pk")
    )
    for cid, pk in due_ids:
        if _remind_followup(cid, pk, now, today):
            out.followups += 1
            out.case_ids.append(pk)
    for cid, pk in confirm_ids:
        if _remind_confirmation(cid, pk, now):
            out.confirmations += 1
            out.case_ids.append(pk)
    return out


def _remind_followup(community_id: int, pk: int, now: datetime, today: date) -> bool:
    with governed_write(
        actor=None, action="mediation.followup_reminded", community_id=community_id
    ) as w:
        case = (
            Case.objects.select_for_update()
            .filter(pk=pk, community_id=community_id, followup_reminded_at__isnull=True)
            .first()
        )
        if case is None:  # another sweep got here first
            w.record = False
            return False
        case.followup_reminded_at = now
        case.save(update_fields=["followup_reminded_at", "updated_at"])
        w.target = case
        w.payload.update(due=case.followup_due.isoformat() if case.followup_due else None)
        tell_staff(
            w,
            mediator_usernames(case),
            _("调解案件 %(no)s 已到回访日期（%(due)s），请回访协议履行情况。")
            % {"no": case.number, "due": case.followup_due},
        )
    return True


def _remind_confirmation(community_id: int, pk: int, now: datetime) -> bool:
    with governed_write(
        actor=None, action="mediation.confirmation_reminded", community_id=community_id
    ) as w:
        case = (
            Case.objects.select_for_update()
            .filter(pk=pk, community_id=community_id, confirmation_reminded_at__isnull=True)
            .first()
        )
        if case is None:
            w.record = False
            return False
        case.confirmation_reminded_at = now
        case.save(update_fields=["confirmation_reminded_at", "updated_at"])
        w.target = case
        deadline = case.confirmation_deadline
        w.payload.update(deadline=deadline.isoformat() if deadline else None)
        body = _(
            "提醒：调解协议（%(no)s）申请司法确认的期限至%(until)s。如需确认，请双方当事人在此之前共同向人民法院提出申请。"
        ) % {"no": case.number, "until": deadline}
        for phone in party_phones(case):
            w.notify(Message("sms", phone, _("人民调解"), body))
    return True
