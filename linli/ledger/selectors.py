"""Reads of the ledger that depend on who is looking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from linli.accounts.scope import scope_of
from linli.communities.models import OrgUnit, Resident
from linli.core.errors import NotFound, PermissionDenied
from linli.ledger.models import (
    Account,
    AccountKind,
    CatalogueItem,
    ClaimStatus,
    Currency,
    EarningClaim,
    EarningRule,
    EarnKind,
    Entry,
    Honour,
    HonourKind,
    LedgerTransaction,
    Side,
    TxKind,
    Voucher,
)
from linli.ledger.permissions import (
    MANAGER_ROLES,
    STAFF_ROLES,
    can_view_account,
    can_view_claim,
    can_view_trial_balance,
)
from linli.ledger.states import APPROVE, CLAIMS, CONFIRM


def my_resident(viewer: Any) -> Resident:
    rid = scope_of(viewer).resident_id
    if rid is None:
        raise NotFound()
    return Resident.objects.select_related("household__building", "community", "grid").get(pk=rid)


@dataclass
class Wallet:
    resident: Resident
    points: Account
    hours: Account
    level: str
    donated: int
    next_level: str
    to_next: int


def wallet_for(*, viewer: Any) -> Wallet:
    from linli.ledger.services import credit_level, donated_total, resident_account, settings_for

    r = my_resident(viewer)
    pts = resident_account(r, Currency.POINTS)
    hrs = resident_account(r, Currency.MINUTES)
    level = credit_level(pts)
    s = settings_for(r.community_id)
    steps = [("A", s.level_a), ("AA", s.level_aa), ("AAA", s.level_aaa)]
    nxt, gap = "", 0
    for name, need in steps:
        if pts.lifetime_earned < need:
            nxt, gap = name, need - pts.lifetime_earned
            break
    return Wallet(r, pts, hrs, level, donated_total(pts), nxt, gap)


def credit_level_for_resident(resident_id: int) -> str:
    from linli.ledger.services import credit_level

    acc = Account.objects.filter(
        resident_id=resident_id, currency=Currency.POINTS, kind=AccountKind.RESIDENT
    ).first()
    return credit_level(acc) if acc is not None else ""


def account_get_for(*, viewer: Any, pk: int) -> Account:
    acc = (
        Account.objects.select_related("community", "resident__grid", "household__building__grid")
        .filter(pk=pk)
        .first()
    )
    if acc is None or not can_view_account(viewer, acc):
        raise NotFound()
    return acc


def claim_get_for(*, viewer: Any, pk: int) -> EarningClaim:
    """A claim the viewer may know about; another community's claim is "not found",
    exactly like an id that does not exist (no 403 that would confirm it exists)."""
    claim = (
        EarningClaim.objects.select_related("rule", "resident__grid", "recipient__grid")
        .filter(pk=pk)
        .first()
    )
    if claim is None or not can_view_claim(viewer, claim):
        raise NotFound()
    return claim


def statement_for(*, viewer: Any, account: Account) -> QuerySet[Entry]:
    """Entries of one account, newest first, each with its running balance."""
    if not can_view_account(viewer, account):
        raise NotFound()
    return (
        Entry.objects.filter(community_id=account.community_id, account=account)
        .select_related("transaction")
        .order_by("-id")
    )


def accounts_for(
    *, viewer: Any, community_id: int, kind: str = "", currency: str = ""
) -> QuerySet[Account]:
    if not can_view_trial_balance(viewer, community_id) and community_id not in scope_of(
        viewer
    ).community_ids_for(*STAFF_ROLES):
        raise NotFound()
    qs = Account.objects.filter(community_id=community_id).select_related(
        "resident", "organisation"
    )
    if kind:
        qs = qs.filter(kind=kind)
    if currency:
        qs = qs.filter(currency=currency)
    return qs.order_by("kind", "-balance", "id")


@dataclass
class TrialRow:
    currency: str
    kind: str
    accounts: int
    balance: int


def trial_balance(*, viewer: Any, community: OrgUnit) -> tuple[list[TrialRow], dict[str, int]]:
    """Balances summed by currency and account kind; each currency's total is zero."""
    if not can_view_trial_balance(viewer, community):
        raise NotFound()
    return trial_balance_raw(community.pk)


def trial_balance_raw(community_id: int) -> tuple[list[TrialRow], dict[str, int]]:
    rows = (
        Account.objects.filter(community_id=community_id)
        .values("currency", "kind")
        .annotate(n=Count("id"), total=Sum("balance"))
        .order_by("currency", "kind")
    )
    out = [TrialRow(r["currency"], r["kind"], r["n"], int(r["total"] or 0)) for r in rows]
    totals: dict[str, int] = {c: 0 for c in Currency.values}
    for row in out:
        totals[row.currency] += row.balance
    return out, totals


def rules_for(*, viewer: Any, community_id: int) -> QuerySet[EarningRule]:
    if community_id not in scope_of(viewer).community_ids_for(*MANAGER_ROLES, *STAFF_ROLES):
        raise NotFound()
    return EarningRule.objects.filter(community_id=community_id).order_by("kind")


def active_rules(community_id: int) -> QuerySet[EarningRule]:
    return EarningRule.objects.filter(community_id=community_id, is_active=True).order_by("kind")


def claims_to_decide(*, viewer: Any) -> list[EarningClaim]:
    """Claims the viewer may approve (staff) or confirm (recipient / their grid worker),
    each with ``actions`` from :data:`linli.ledger.states.CLAIMS`."""
    scope = scope_of(viewer)
    cids = scope.community_ids_for(*STAFF_ROLES, "social_org")
    q = Q(community_id__in=cids)
    if scope.resident_id:
        q |= Q(recipient_id=scope.resident_id)
    qs = (
        EarningClaim.objects.filter(q)
        .filter(status__in=[ClaimStatus.AWAITING_APPROVAL, ClaimStatus.AWAITING_CONFIRMATION])
        .select_related(
            "rule", "resident__grid", "recipient__grid", "resident__household__building"
        )
        .order_by("created_at")[:500]
    )
    out = []
    for c in qs:
        # The buttons come from the claim machine, so a page never offers an action the
        # service would refuse (``c.actions``: the actions this viewer may take now).
        actions = CLAIMS.available(viewer, c)
        if CONFIRM in actions or APPROVE in actions:
            c.actions = actions  # type: ignore[attr-defined]
            out.append(c)
    return out


def my_claims(*, viewer: Any) -> QuerySet[EarningClaim]:
    r = my_resident(viewer)
    return (
        EarningClaim.objects.filter(resident=r)
        .select_related("rule", "recipient")
        .order_by("-created_at")
    )


def catalogue_for(
    *, viewer: Any, community_id: int, include_inactive: bool = False
) -> QuerySet[CatalogueItem]:
    scope = scope_of(viewer)
    if community_id != scope.community_id and community_id not in scope.community_ids_for(
        *STAFF_ROLES
    ):
        raise NotFound()
    qs = CatalogueItem.objects.filter(community_id=community_id)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.annotate(issued=Count("vouchers")).order_by("price_points", "id")


def item_get_for(*, viewer: Any, pk: int) -> CatalogueItem:
    item = CatalogueItem.objects.filter(pk=pk).first()
    if item is None:
        raise NotFound()
    catalogue_for(viewer=viewer, community_id=item.community_id, include_inactive=True)
    return item


def vouchers_for(*, viewer: Any) -> QuerySet[Voucher]:
    r = my_resident(viewer)
    return Voucher.objects.filter(resident=r).select_related("item").order_by("-created_at")


def family_of(*, viewer: Any) -> QuerySet[Resident]:
    r = my_resident(viewer)
    return Resident.objects.filter(household_id=r.household_id, is_active=True).exclude(pk=r.pk)


def service_recipients(*, viewer: Any, query: str) -> list[Resident]:
    """The elderly or disabled neighbour whose time-bank service code is ``query``
    (they give it to whoever served them). Never a search by name: a resident must
    not be able to list vulnerable neighbours (issue 9)."""
    from linli.communities.services import resident_by_share_code

    r = my_resident(viewer)
    found = resident_by_share_code(viewer=viewer, code=query)
    if found is None or found.pk == r.pk or found.community_id != r.community_id:
        return []
    year = timezone.localdate().year
    if found.birth_year > year - 60 and "disabled" not in (found.tags or []):
        return []
    return [found]


# --------------------------------------------------------------------------- honours


@dataclass
class Candidate:
    resident: Resident
    score: int
    detail: str


HONOUR_KINDS: dict[str, list[str]] = {
    HonourKind.BEST_VOLUNTEER: [
        EarnKind.VOLUNTEER_SERVICE,
        EarnKind.MUTUAL_AID,
        EarnKind.TIMEBANK_SERVICE,
    ],
    HonourKind.GOVERNANCE_PIONEER: [
        EarnKind.PROPOSAL_ADOPTED,
        EarnKind.DELIBERATION,
        EarnKind.SURVEY,
        EarnKind.GARBAGE_SORTING,
    ],
}


def honour_candidates(
    *, viewer: Any, community: OrgUnit, kind: str, year: int, limit: int = 20
) -> list[Candidate]:
    """Ranked by what the year's approved earnings under the honour's kinds add up to
    (time-bank minutes count one point per 6 minutes: 10 per hour)."""
    if community.pk not in scope_of(viewer).community_ids_for(*MANAGER_ROLES):
        raise PermissionDenied()
    kinds = HONOUR_KINDS.get(kind, [])
    rows = (
        EarningClaim.objects.filter(
            community=community,
            status=ClaimStatus.APPROVED,
            rule__kind__in=kinds,
            service_date__year=year,
        )
        .values("resident_id", "rule__currency")
        .annotate(total=Sum("amount"), n=Count("id"))
    )
    scores: dict[int, list[int]] = {}
    for r in rows:
        s = scores.setdefault(r["resident_id"], [0, 0, 0])
        if r["rule__currency"] == Currency.MINUTES:
            s[1] += int(r["total"])
        else:
            s[0] += int(r["total"])
        s[2] += int(r["n"])
    ranked = sorted(scores.items(), key=lambda kv: -(kv[1][0] + kv[1][1] // 6))[:limit]
    residents = Resident.objects.in_bulk([rid for rid, _s in ranked])
    out = []
    for rid, (pts, mins, n) in ranked:
        detail = f"{pts} 分 · {mins // 60} 小时 · {n} 次"
        out.append(Candidate(residents[rid], pts + mins // 6, detail))
    return out


def hall_of_fame(community_id: int, *, consented_only: bool = True) -> QuerySet[Honour]:
    """社区名人堂. Public (no login): only residents who agreed to appear
    (``PrivacySetting.hall_of_fame_consent``), their names shown through
    ``communities.display``. Staff managing honours pass ``consented_only=False``."""
    qs = Honour.objects.filter(community_id=community_id)
    if consented_only:
        qs = qs.filter(resident__privacy__hall_of_fame_consent=True)
    return qs.select_related("resident__privacy", "resident__household__building")


def transaction_get_for(*, viewer: Any, pk: int) -> LedgerTransaction:
    tx = LedgerTransaction.objects.filter(pk=pk).first()
    if tx is None or not can_view_trial_balance(viewer, tx):
        raise NotFound()
    return tx


def transaction_detail_for(*, viewer: Any, pk: int) -> LedgerTransaction:
    """One transaction with its legs and any reversal, for the correction desk."""
    tx = transaction_get_for(viewer=viewer, pk=pk)
    return (
        LedgerTransaction.objects.select_related("actor", "reverses")
        .prefetch_related("entries__account")
        .get(pk=tx.pk)
    )


def reversal_of(tx: LedgerTransaction) -> LedgerTransaction | None:
    return LedgerTransaction.objects.filter(reverses=tx).first()


def recent_transactions(*, viewer: Any, community: OrgUnit) -> QuerySet[LedgerTransaction]:
    if not can_view_trial_balance(viewer, community):
        raise NotFound()
    return (
        LedgerTransaction.objects.filter(community=community)
        .select_related("reversed_by")
        .order_by("-id")
    )


__all__ = ["Side", "TxKind"]
