"""Prove the cached balances against the immutable entries."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import BigIntegerField as BigInt
from django.db.models import Case, F, Sum, When

from linli.ledger.models import Account, Entry


@dataclass
class Report:
    accounts: int = 0
    balance_diffs: list[tuple[int, int, int]] = field(
        default_factory=list
    )  # (account, cached, from entries)
    running_diffs: list[tuple[int, int, int]] = field(
        default_factory=list
    )  # (account, cached, last balance_after)
    unbalanced_tx: list[tuple[int, int]] = field(default_factory=list)  # (transaction, sum)
    trial: dict[tuple[int, str], int] = field(default_factory=dict)  # (community, currency) -> sum
    negatives: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.balance_diffs
            or self.running_diffs
            or self.unbalanced_tx
            or self.negatives
            or any(self.trial.values())
        )


SIGNED = Case(When(side="C", then=F("amount")), default=-F("amount"), output_field=BigInt())


def recompute(community_id: int | None = None) -> Report:
    rep = Report()
    accs = Account.objects.all()
    entries = Entry.objects.all()
    if community_id is not None:
        accs = accs.filter(community_id=community_id)
        entries = entries.filter(community_id=community_id)
    sums = dict(entries.values("account_id").annotate(s=Sum(SIGNED)).values_list("account_id", "s"))
    last_ids = entries.values("account_id").annotate(m=models_max()).values_list("m", flat=True)
    last = dict(
        Entry.objects.filter(pk__in=list(last_ids)).values_list("account_id", "balance_after")
    )
    for acc_id, bal, allow_neg, cid, cur in accs.values_list(
        "pk", "balance", "allow_negative", "community_id", "currency"
    ).iterator(chunk_size=5000):
        rep.accounts += 1
        computed = int(sums.get(acc_id) or 0)
        if computed != bal:
            rep.balance_diffs.append((acc_id, bal, computed))
        if acc_id in last and last[acc_id] != bal:
            rep.running_diffs.append((acc_id, bal, last[acc_id]))
        if bal < 0 and not allow_neg:
            rep.negatives.append(acc_id)
        rep.trial[(cid, cur)] = rep.trial.get((cid, cur), 0) + bal
    for tx_id, s in (
        entries.values("transaction_id")
        .annotate(s=Sum(SIGNED))
        .exclude(s=0)
        .values_list("transaction_id", "s")
    ):
        rep.unbalanced_tx.append((tx_id, int(s)))
    return rep


def models_max():  # type: ignore[no-untyped-def]
    from django.db.models import Max

    return Max("id")
