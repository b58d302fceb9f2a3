"""Recompute every balance from the entries and report any difference.

Exit status 1 when anything disagrees: cached balance vs. sum of entries, cached balance
vs. the last running balance, an unbalanced transaction, a negative resident balance,
or a community whose balances do not sum to zero. Nothing is changed: a difference is a
defect to investigate (and correct with a reversing transaction), never to paper over.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.ledger.checks import recompute


class Command(BaseCommand):
    help = "Recompute ledger balances from entries and report differences (read-only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--community", type=int, default=None)

    def handle(self, *args: Any, **opts: Any) -> None:
        rep = recompute(opts["community"])
        self.stdout.write(f"accounts checked: {rep.accounts}")
        for acc, cached, computed in rep.balance_diffs[:50]:
            self.stdout.write(
                f"  account {acc}: cached {cached} != entries {computed} (diff {cached - computed})"
            )
        for acc, cached, last in rep.running_diffs[:50]:
            self.stdout.write(f"  account {acc}: cached {cached} != last running balance {last}")
        for tx, s in rep.unbalanced_tx[:50]:
            self.stdout.write(f"  transaction {tx} does not balance: {s}")
        for acc in rep.negatives[:50]:
            self.stdout.write(f"  account {acc} is negative")
        for (cid, cur), total in sorted(rep.trial.items()):
            flag = "OK" if total == 0 else "NOT ZERO"
            self.stdout.write(f"  trial balance community {cid} {cur}: {total} {flag}")
        if not rep.ok:
            raise CommandError("ledger differences found")
        self.stdout.write(
            self.style.SUCCESS("ledger consistent: balances match entries, trial balance is zero")
        )
