"""The redemption catalogue: items, redemption, vouchers (incl. 优先报名)."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.communities.models import OrgUnit, Resident
from linli.core import audit
from linli.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from linli.core.textlimit import within
from linli.ledger.models import (
    AccountKind,
    CatalogueItem,
    Currency,
    ItemKind,
    TxKind,
    Voucher,
    VoucherStatus,
)
from linli.ledger.permissions import (
    can_manage_ledger,
    can_use_voucher,
    level_at_least,
)
from linli.ledger.services.honours import credit_level
from linli.ledger.services.posting import (
    VOUCHER_ALPHABET,
    Leg,
    _owner_or_staff,
    clean_amount,
    clean_key,
    idempotent,
    post_transaction,
    request_hash,
    resident_account,
    system_account,
)

# --------------------------------------------------------------------------- catalogue


def item_save(
    *,
    actor: Any,
    community: OrgUnit,
    name: str,
    kind: str,
    price_points: Any,
    stock: Any,
    per_person_limit: Any = 1,
    description: str = "",
    min_level: str = "",
    is_active: bool = True,
    item: CatalogueItem | None = None,
) -> CatalogueItem:
    if not can_manage_ledger(actor, community):
        raise PermissionDenied()
    name = within(name, field="name", limit=80, label=_("名称"))
    description = within(description, field="description", limit=300, label=_("说明"))
    if not name:
        raise ValidationFailed(_("请填写名称。"), field="name")
    if kind not in ItemKind.values:
        raise ValidationFailed(_("未知的商品类别。"), field="kind")
    if min_level not in ("", "A", "AA", "AAA"):
        raise ValidationFailed(_("未知的信用等级。"), field="min_level")
    price = clean_amount(price_points, field="price_points", label=_("所需积分"))
    limit = clean_amount(per_person_limit, field="per_person_limit", label=_("每人限兑"))
    stock_n = 0 if stock in (0, "0") else clean_amount(stock, field="stock", label=_("库存"))
    with transaction.atomic():
        if item is None:
            item = CatalogueItem(community=community)
        elif item.community_id != community.pk:
            raise NotFound()
        item.name, item.kind, item.price_points, item.stock = name, kind, price, stock_n
        item.per_person_limit, item.description, item.min_level, item.is_active = (
            limit,
            description,
            min_level,
            is_active,
        )
        item.save()
        audit.record(
            actor=actor,
            action="ledger.item_saved",
            target=item,
            community_id=community.pk,
            payload={"name": item.name, "price": price, "stock": stock_n, "limit": limit},
        )
    return item


def _new_code() -> str:
    return "".join(secrets.choice(VOUCHER_ALPHABET) for _i in range(10))


def item_redeem(
    *, actor: Any, item: CatalogueItem, resident: Resident, idempotency_key: str
) -> Voucher:
    """Stock, balance and the voucher in one transaction: all or nothing."""
    _owner_or_staff(actor, resident)
    if item.community_id != resident.community_id:
        raise NotFound()
    key = clean_key(idempotency_key)
    rhash = request_hash(op="redeem", item=item.pk, resident=resident.pk)

    def do() -> Voucher:
        with transaction.atomic():
            # Lock order: item, then accounts (inside post_transaction), then audit head.
            locked = CatalogueItem.objects.select_for_update().get(pk=item.pk)
            if not locked.is_active:
                raise ValidationFailed(_("该商品已下架。"), code="inactive")
            if locked.stock <= 0:
                raise ValidationFailed(
                    _("“%(n)s”已兑完，暂无库存。") % {"n": locked.name}, code="out_of_stock"
                )
            taken = Voucher.objects.filter(item=locked, resident=resident).exclude(
                status=VoucherStatus.VOID
            )
            if taken.count() >= locked.per_person_limit:
                raise ValidationFailed(
                    _("每人限兑 %(n)s 次，您已达到上限。") % {"n": locked.per_person_limit},
                    code="limit",
                )
            acc = resident_account(resident, Currency.POINTS)
            if locked.min_level and not level_at_least(credit_level(acc), locked.min_level):
                raise ValidationFailed(
                    _("需要信用等级 %(l)s 及以上才能兑换。") % {"l": locked.min_level}, code="level"
                )
            issuer = system_account(resident.community_id, Currency.POINTS, AccountKind.ISSUER)
            tx = post_transaction(
                actor=actor,
                community_id=resident.community_id,
                currency=Currency.POINTS,
                kind=TxKind.REDEEM,
                legs=[Leg(acc.pk, -locked.price_points), Leg(issuer.pk, locked.price_points)],
                idempotency_key=key,
                rhash=rhash,
                memo=_("兑换 %(n)s") % {"n": locked.name},
                source=f"ledger.catalogueitem:{locked.pk}",
            )
            CatalogueItem.objects.filter(pk=locked.pk).update(stock=F("stock") - 1)
            for _attempt in range(5):
                code = _new_code()
                if not Voucher.objects.filter(code=code).exists():
                    break
            voucher = Voucher.objects.create(
                community_id=resident.community_id,
                item=locked,
                resident=resident,
                code=code,
                transaction=tx,
            )
            audit.record(
                actor=actor,
                action="ledger.voucher_issued",
                target=voucher,
                community_id=resident.community_id,
                payload={"item": locked.pk, "tx": tx.pk},
            )
            return voucher

    return idempotent(key, rhash, do, lambda tx: Voucher.objects.get(transaction=tx))


redeem = item_redeem  # old name, kept for callers


def voucher_use(*, actor: Any, community: OrgUnit, code: str) -> Voucher:
    """Single use: the status flips from issued to used exactly once."""
    code = (code or "").strip().upper()
    voucher = Voucher.objects.select_related("item").filter(community=community, code=code).first()
    if voucher is None or not can_use_voucher(actor, voucher):
        raise NotFound(_("兑换码无效。"))
    with transaction.atomic():
        now = timezone.now()
        changed = Voucher.objects.filter(pk=voucher.pk, status=VoucherStatus.ISSUED).update(
            status=VoucherStatus.USED, used_at=now, used_by=actor
        )
        if changed != 1:
            raise Conflict(_("该兑换码已使用或已作废。"), code="voucher_used")
        voucher.refresh_from_db()
        audit.record(
            actor=actor, action="ledger.voucher_used", target=voucher, community_id=community.pk
        )
    return voucher


def priority_voucher_available(resident: Resident) -> Voucher | None:
    """The resident's oldest unused 优先报名 voucher, if any (a read; no lock)."""
    return (
        Voucher.objects.filter(
            resident=resident,
            community_id=resident.community_id,
            status=VoucherStatus.ISSUED,
            item__kind=ItemKind.PRIORITY_SIGNUP,
        )
        .order_by("created_at", "id")
        .first()
    )


def priority_voucher_consume(*, actor: Any, resident: Resident, source: str) -> Voucher:
    """Spend one 优先报名 voucher for ``source`` (e.g. "volunteers.activity:7").

    Precondition: the caller checked that ``actor`` acts for ``resident`` and runs
    inside the ``transaction.atomic`` that also writes what the voucher buys, so the
    sign-up and the voucher's use commit or roll back together. The voucher row is
    locked and flipped issued → used with a conditional update: used exactly once.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("priority_voucher_consume must run inside transaction.atomic")
    voucher = (
        Voucher.objects.select_for_update()
        .filter(
            resident=resident,
            community_id=resident.community_id,
            status=VoucherStatus.ISSUED,
            item__kind=ItemKind.PRIORITY_SIGNUP,
        )
        .order_by("created_at", "id")
        .first()
    )
    if voucher is None:
        raise ValidationFailed(
            _("您没有可用的优先报名券，可在积分商城兑换。"), code="no_priority_voucher"
        )
    changed = Voucher.objects.filter(pk=voucher.pk, status=VoucherStatus.ISSUED).update(
        status=VoucherStatus.USED,
        used_at=timezone.now(),
        used_by=actor if getattr(actor, "pk", None) else None,
    )
    if changed != 1:
        raise Conflict(_("该兑换码已使用或已作废。"), code="voucher_used")
    voucher.refresh_from_db()
    audit.record(
        actor=actor,
        action="ledger.voucher_used",
        target=voucher,
        community_id=voucher.community_id,
        payload={"for": source[:80], "kind": ItemKind.PRIORITY_SIGNUP},
    )
    return voucher
