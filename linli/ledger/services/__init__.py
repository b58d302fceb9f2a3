"""Every write to points and hours goes through here (one module per aggregate).

The single posting path is :func:`transaction_post` (``posting``): the accounts of a
transaction are found and locked with one ``SELECT … FOR UPDATE`` in primary-key order
(a fixed order, so two transfers in opposite directions cannot deadlock), every balance
that must not go negative is checked on the locked rows, the new balances are written
with one UPDATE, the immutable entries with one INSERT, and the audit event with one
more — all in one database transaction (:func:`linli.core.writes.governed_write`).

Idempotency: each public write takes an ``idempotency_key``. The hot paths claim it
first with ``INSERT … ON CONFLICT (idempotency_key) DO NOTHING``: a retry with the same
key and the same request returns the original result, the same key with a different
request is refused, and two identical requests racing each other meet at the unique
index (PostgreSQL makes the second wait for the first) without a savepoint.

Verbs are named ``<entity>_<verb>``; the older names (``award``, ``donate``,
``redeem``, ``reverse``, ``adjust``, ``post_transaction``) remain as aliases.
"""

from linli.ledger.services.catalogue import (
    item_redeem,
    item_save,
    priority_voucher_available,
    priority_voucher_consume,
    redeem,
    voucher_use,
)
from linli.ledger.services.corrections import (
    account_adjust,
    adjust,
    reverse,
    transaction_reverse,
)
from linli.ledger.services.earning import (
    _rule,
    award,
    cap_room,
    claim_approve,
    claim_confirm,
    claim_reject,
    claim_submit,
    earning_award,
    rule_save,
    settings_save,
)
from linli.ledger.services.expiry import ExpiryResult, months_before, points_expire
from linli.ledger.services.honours import (
    credit_level,
    donate,
    donated_total,
    honour_award,
    points_donate,
)
from linli.ledger.services.posting import (
    ELDERLY_AGE,
    MAX_AMOUNT,
    MAX_KEY,
    MAX_SERVICE_MINUTES,
    MAX_VALID_MONTHS,
    VOUCHER_ALPHABET,
    Books,
    Leg,
    clean_amount,
    clean_key,
    fmt_hours,
    idempotent,
    insert_transaction,
    lock_accounts,
    lock_books,
    partner_account,
    post_transaction,
    request_hash,
    resident_account,
    settings_for,
    system_account,
    transaction_post,
)
from linli.ledger.services.timebank import hours_spend, hours_transfer
from linli.ledger.states import CLAIM_TRANSITIONS, CLAIMS

__all__ = [
    "CLAIMS",
    "CLAIM_TRANSITIONS",
    "ELDERLY_AGE",
    "MAX_AMOUNT",
    "MAX_KEY",
    "MAX_SERVICE_MINUTES",
    "MAX_VALID_MONTHS",
    "VOUCHER_ALPHABET",
    "Books",
    "ExpiryResult",
    "Leg",
    "_rule",
    "account_adjust",
    "adjust",
    "award",
    "cap_room",
    "claim_approve",
    "claim_confirm",
    "claim_reject",
    "claim_submit",
    "clean_amount",
    "clean_key",
    "credit_level",
    "donate",
    "donated_total",
    "earning_award",
    "fmt_hours",
    "honour_award",
    "hours_spend",
    "hours_transfer",
    "idempotent",
    "insert_transaction",
    "item_redeem",
    "item_save",
    "lock_accounts",
    "lock_books",
    "months_before",
    "partner_account",
    "points_donate",
    "points_expire",
    "post_transaction",
    "priority_voucher_available",
    "priority_voucher_consume",
    "redeem",
    "request_hash",
    "resident_account",
    "reverse",
    "rule_save",
    "settings_for",
    "settings_save",
    "system_account",
    "transaction_post",
    "transaction_reverse",
    "voucher_use",
]
