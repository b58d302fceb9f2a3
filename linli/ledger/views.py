"""Pages: the resident's wallet (phone) and the staff ledger desk. Thin: parse, call one
service or selector, render. Forms carry a hidden one-time request key, so a double
tap or a browser resubmit posts once."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from linli.accounts.scope import scope_of
from linli.communities.models import OrgUnit, Resident
from linli.communities.services import share_code_for
from linli.core import idempotency
from linli.core.errors import DomainError, NotFound, ValidationFailed
from linli.core.exports import xlsx_response
from linli.core.web import int_or_none as _int
from linli.core.web import run_service as _attempt
from linli.ledger import selectors, services
from linli.ledger.models import (
    AccountKind,
    Approver,
    CatalogueItem,
    Currency,
    EarnKind,
    HonourKind,
    ItemKind,
)
from linli.ledger.permissions import (
    MANAGER_ROLES,
    OVERSIGHT_ROLES,
    STAFF_ROLES,
    can_reverse,
    can_view_trial_balance,
)
from linli.ledger.states import CONFIRM


def new_key() -> str:
    return uuid.uuid4().hex


def _staff_community(request: HttpRequest, *roles: str) -> tuple[OrgUnit, list[OrgUnit]]:
    ids = scope_of(request.user).community_ids_for(*(roles or MANAGER_ROLES))
    if not ids:
        raise NotFound()
    communities = list(OrgUnit.objects.filter(pk__in=ids).order_by("path"))
    wanted = _int(request.GET.get("community") or request.POST.get("community"))
    chosen = next((c for c in communities if c.pk == wanted), communities[0])
    return chosen, communities


# --------------------------------------------------------------------------- resident


@login_required
def me(request: HttpRequest) -> HttpResponse:
    wallet = selectors.wallet_for(viewer=request.user)
    recent = list(selectors.statement_for(viewer=request.user, account=wallet.points)[:5])
    return render(request, "ledger/me.html", {"w": wallet, "recent": recent})


@login_required
def statement(request: HttpRequest, pk: int) -> HttpResponse:
    account = selectors.account_get_for(viewer=request.user, pk=pk)
    entries = selectors.statement_for(viewer=request.user, account=account)
    if request.GET.get("format") == "xlsx":
        return _statement_xlsx(account, entries)
    page = Paginator(entries, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "ledger/statement.html",
        {
            "account": account,
            "page": page,
            "is_hours": account.currency == Currency.MINUTES,
            # Staff who audit the books get a link from each line to its transaction.
            "tx_links": can_view_trial_balance(request.user, account),
        },
    )


def _statement_xlsx(account: Any, entries: Any) -> HttpResponse:
    """Through the shared export helper: a memo a resident typed (``=HYPERLINK(…)``)
    arrives as text, never as a live formula."""
    hours = account.currency == Currency.MINUTES

    def rows() -> Any:
        yield [_("时间"), _("类型"), _("摘要"), _("收入"), _("支出"), _("余额"), _("流水号")]
        for e in entries.iterator(chunk_size=2000):
            amount: Any = e.amount / 60 if hours else e.amount
            bal: Any = e.balance_after / 60 if hours else e.balance_after
            yield [
                timezone.localtime(e.created_at).strftime("%Y-%m-%d %H:%M"),
                e.transaction.get_kind_display(),
                e.transaction.memo,
                amount if e.side == "C" else None,
                amount if e.side == "D" else None,
                bal,
                e.transaction_id,
            ]

    return xlsx_response([("statement", rows())], f"statement-{account.pk}.xlsx")


@login_required
def catalogue(request: HttpRequest) -> HttpResponse:
    wallet = selectors.wallet_for(viewer=request.user)
    items = selectors.catalogue_for(viewer=request.user, community_id=wallet.resident.community_id)
    return render(request, "ledger/catalogue.html", {"w": wallet, "items": items, "key": new_key()})


@login_required
@require_http_methods(["GET", "POST"])
def redeem(request: HttpRequest, pk: int) -> HttpResponse:
    """兑换 spends points and cannot be undone, so it takes two steps, without
    JavaScript: the catalogue's button (POST, or a GET link) only shows what will
    happen; the confirmation page's button (``confirm=1``) redeems. The form's
    one-time key is carried through the confirmation, so a double tap on the
    confirm button still redeems once."""
    item = selectors.item_get_for(viewer=request.user, pk=pk)
    if request.method != "POST" or request.POST.get("confirm") != "1":
        wallet = selectors.wallet_for(viewer=request.user)
        try:
            key = idempotency.clean(request.POST.get("idempotency_key", "")) or new_key()
        except ValidationFailed:
            key = new_key()
        after = wallet.points.balance - item.price_points
        return render(
            request,
            "ledger/redeem_confirm.html",
            {
                "item": item,
                "w": wallet,
                "after": after,
                "enough": after >= 0,
                "key": key,
            },
        )
    resident = selectors.my_resident(request.user)
    key = request.POST.get("idempotency_key", "")
    if _attempt(
        request,
        lambda: services.item_redeem(
            actor=request.user, item=item, resident=resident, idempotency_key=key
        ),
        _("兑换成功，请在“我的兑换券”中查看兑换码。"),
    ):
        return redirect("ledger:vouchers")
    return redirect("ledger:catalogue")


@login_required
def vouchers(request: HttpRequest) -> HttpResponse:
    return render(
        request, "ledger/vouchers.html", {"vouchers": selectors.vouchers_for(viewer=request.user)}
    )


@login_required
def donate(request: HttpRequest) -> HttpResponse:
    wallet = selectors.wallet_for(viewer=request.user)
    if request.method == "POST":
        key = request.POST.get("idempotency_key", "")
        points = request.POST.get("points", "")
        if _attempt(
            request,
            lambda: services.points_donate(
                actor=request.user, resident=wallet.resident, points=points, idempotency_key=key
            ),
            _("感谢您的爱心捐赠！"),
        ):
            return redirect("ledger:me")
        return redirect("ledger:donate")
    threshold = services.settings_for(wallet.resident.community_id).philanthropist_threshold
    return render(
        request, "ledger/donate.html", {"w": wallet, "key": new_key(), "threshold": threshold}
    )


@login_required
def timebank(request: HttpRequest) -> HttpResponse:
    wallet = selectors.wallet_for(viewer=request.user)
    q = request.GET.get("q", "").strip()
    return render(
        request,
        "ledger/timebank.html",
        {
            "w": wallet,
            "family": selectors.family_of(viewer=request.user),
            "recipients": selectors.service_recipients(viewer=request.user, query=q) if q else [],
            "q": q,
            # The resident's own code to give whoever serves them (no name search).
            "my_code": share_code_for(actor=request.user, resident=wallet.resident),
            "key": new_key(),
            "today": timezone.localdate().isoformat(),
            "claims": selectors.my_claims(viewer=request.user)[:20],
            "to_confirm": [
                c
                for c in selectors.claims_to_decide(viewer=request.user)
                if CONFIRM in getattr(c, "actions", ())
            ],
        },
    )


def _date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(_("日期格式不正确。"), field="service_date") from None


@login_required
@require_POST
def claim_new(request: HttpRequest) -> HttpResponse:
    resident = selectors.my_resident(request.user)
    kind = request.POST.get("kind", "")
    recipient = None
    rid = _int(request.POST.get("recipient"))
    if rid:
        recipient = Resident.objects.filter(pk=rid, community_id=resident.community_id).first()

    def go() -> Any:
        return services.claim_submit(
            actor=request.user,
            resident=resident,
            kind=kind,
            service_date=_date(request.POST.get("service_date", "")),
            amount=_minutes(request) if kind == EarnKind.TIMEBANK_SERVICE else None,
            recipient=recipient,
            description=request.POST.get("description", ""),
            idempotency_key=idempotency.from_request(request),
        )

    _attempt(request, go, _("已提交，等待确认或审核。"))
    return redirect(request.POST.get("back") == "me" and "ledger:me" or "ledger:timebank")


@login_required
@require_POST
def hours_transfer(request: HttpRequest) -> HttpResponse:
    sender = selectors.my_resident(request.user)
    receiver = Resident.objects.filter(pk=_int(request.POST.get("receiver")) or 0).first()
    key = request.POST.get("idempotency_key", "")

    def go() -> Any:
        if receiver is None:
            raise ValidationFailed(_("请选择家人。"), field="receiver")
        return services.hours_transfer(
            actor=request.user,
            sender=sender,
            receiver=receiver,
            minutes=_minutes(request),
            idempotency_key=key,
        )

    _attempt(request, go, _("已转赠。"))
    return redirect("ledger:timebank")


def _minutes(request: HttpRequest) -> int:
    """Hours typed as "1.5" or minutes as "90" → whole minutes; never a fraction of one."""
    raw = (request.POST.get("hours") or "").strip()
    if raw:
        try:
            value = float(raw)
        except ValueError:
            raise ValidationFailed(_("时长格式不正确。"), field="hours") from None
        minutes = value * 60
        if minutes <= 0:
            raise ValidationFailed(_("时长必须大于零。"), field="hours")
        if not float(minutes).is_integer():
            raise ValidationFailed(_("时长最小单位为 1 分钟。"), field="hours")
        return int(minutes)
    return services.clean_amount(request.POST.get("minutes", ""), label=_("时长（分钟）"))


@login_required
@require_POST
def hours_spend(request: HttpRequest) -> HttpResponse:
    resident = selectors.my_resident(request.user)
    key = request.POST.get("idempotency_key", "")
    _attempt(
        request,
        lambda: services.hours_spend(
            actor=request.user,
            resident=resident,
            minutes=_minutes(request),
            idempotency_key=key,
            description=request.POST.get("description", ""),
        ),
        _("已使用时间银行小时。"),
    )
    return redirect("ledger:timebank")


@login_required
def claims(request: HttpRequest) -> HttpResponse:
    return render(
        request, "ledger/claims.html", {"claims": selectors.claims_to_decide(viewer=request.user)}
    )


@login_required
@require_POST
def claim_decide(request: HttpRequest, pk: int) -> HttpResponse:
    claim = selectors.claim_get_for(viewer=request.user, pk=pk)
    action = request.POST.get("action")
    if action == "confirm":
        _attempt(
            request, lambda: services.claim_confirm(actor=request.user, claim=claim), _("已确认。")
        )
    elif action == "approve":
        _attempt(
            request,
            lambda: services.claim_approve(actor=request.user, claim=claim),
            _("已审核发放。"),
        )
    elif action == "reject":
        _attempt(
            request,
            lambda: services.claim_reject(
                actor=request.user, claim=claim, reason=request.POST.get("reason", "")
            ),
            _("已驳回。"),
        )
    else:
        messages.error(request, _("未知操作。"))
    return redirect(request.POST.get("back") == "timebank" and "ledger:timebank" or "ledger:claims")


# --------------------------------------------------------------------------- staff


@login_required
def rules_page(request: HttpRequest) -> HttpResponse:
    community, communities = _staff_community(request)
    if request.method == "POST":
        kind = request.POST.get("kind", "")

        def go() -> Any:
            caps = {}
            for f in ("daily_cap", "monthly_cap"):
                raw = request.POST.get(f, "").strip()
                caps[f] = services.clean_amount(raw, field=f, label=_("上限")) if raw else None
            return services.rule_save(
                actor=request.user,
                community=community,
                kind=kind,
                amount=request.POST.get("amount", "0") or 0,
                daily_cap=caps["daily_cap"],
                monthly_cap=caps["monthly_cap"],
                approver_roles=request.POST.getlist("approver_roles"),
                recipient_must_confirm=bool(request.POST.get("recipient_must_confirm")),
                is_active=bool(request.POST.get("is_active")),
            )

        _attempt(request, go, _("规则已保存。"))
        return redirect(f"{request.path}?community={community.pk}")
    existing = {
        r.kind: r for r in selectors.rules_for(viewer=request.user, community_id=community.pk)
    }
    rows = [(k, label, existing.get(k)) for k, label in EarnKind.choices]
    return render(
        request,
        "ledger/rules.html",
        {
            "community": community,
            "communities": communities,
            "rows": rows,
            "approvers": Approver.choices,
            "settings": services.settings_for(community.pk),
        },
    )


@login_required
@require_POST
def settings_page(request: HttpRequest) -> HttpResponse:
    community, _cs = _staff_community(request)
    values: dict[str, Any] = {
        k: request.POST.get(k, "")
        for k in (
            "philanthropist_threshold",
            "level_a",
            "level_aa",
            "level_aaa",
            "points_valid_months",
        )
    }
    hours = request.POST.get("hours_cap", "")
    values["hours_cap_minutes"] = (_int(hours) or 0) * 60 if hours else ""
    _attempt(
        request,
        lambda: services.settings_save(actor=request.user, community=community, **values),
        _("设置已保存。"),
    )
    return redirect(f"/ledger/manage/rules/?community={community.pk}")


@login_required
def catalogue_manage(request: HttpRequest) -> HttpResponse:
    community, communities = _staff_community(request)
    if request.method == "POST":
        item = None
        if _int(request.POST.get("item")):
            item = CatalogueItem.objects.filter(
                pk=_int(request.POST.get("item")) or 0, community=community
            ).first()
        _attempt(
            request,
            lambda: services.item_save(
                actor=request.user,
                community=community,
                item=item,
                name=request.POST.get("name", ""),
                kind=request.POST.get("kind", ""),
                price_points=request.POST.get("price_points", ""),
                stock=request.POST.get("stock", ""),
                per_person_limit=request.POST.get("per_person_limit", "1"),
                description=request.POST.get("description", ""),
                min_level=request.POST.get("min_level", ""),
                is_active=bool(request.POST.get("is_active")),
            ),
            _("已保存。"),
        )
        return redirect(f"{request.path}?community={community.pk}")
    items = selectors.catalogue_for(
        viewer=request.user, community_id=community.pk, include_inactive=True
    )
    return render(
        request,
        "ledger/catalogue_manage.html",
        {
            "community": community,
            "communities": communities,
            "items": items,
            "kinds": ItemKind.choices,
        },
    )


@login_required
@require_POST
def voucher_use(request: HttpRequest) -> HttpResponse:
    community, _cs = _staff_community(request, *MANAGER_ROLES, "property_staff")
    code = request.POST.get("code", "")
    _attempt(
        request,
        lambda: services.voucher_use(actor=request.user, community=community, code=code),
        _("兑换码 %(c)s 已核销。") % {"c": code.strip().upper()},
    )
    return redirect(f"/ledger/manage/catalogue/?community={community.pk}")


@login_required
def trial_balance(request: HttpRequest) -> HttpResponse:
    community, communities = _staff_community(request, *MANAGER_ROLES, *OVERSIGHT_ROLES)
    rows, totals = selectors.trial_balance(viewer=request.user, community=community)
    kind = request.GET.get("kind", "")
    kind = kind if kind in AccountKind.values else ""
    accounts = selectors.accounts_for(viewer=request.user, community_id=community.pk, kind=kind)
    page = Paginator(accounts, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "ledger/trial_balance.html",
        {
            "community": community,
            "communities": communities,
            "rows": rows,
            "totals": totals,
            "page": page,
            "kind": kind,
            "kinds": AccountKind.choices,
            "balanced": all(v == 0 for v in totals.values()),
            "recent": selectors.recent_transactions(viewer=request.user, community=community)[:20],
        },
    )


@login_required
def transaction_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    """冲正: show one transaction and, for the secretary, post its mirror image with a
    reason. The original entries stay as they are; the service audits the reversal."""
    tx = selectors.transaction_detail_for(viewer=request.user, pk=pk)
    if request.method == "POST":
        try:
            services.transaction_reverse(
                actor=request.user,
                tx=tx,
                reason=request.POST.get("reason", ""),
                idempotency_key=request.POST.get("key", ""),
            )
        except DomainError as exc:
            messages.error(request, _("未冲正：%(m)s") % {"m": exc.message})
        else:
            messages.success(request, _("已冲正，原交易保留并关联冲正记录。"))
            return redirect("ledger:transaction_reverse", pk=tx.pk)
    return render(
        request,
        "ledger/transaction.html",
        {
            "tx": tx,
            "entries": list(tx.entries.filter(community_id=tx.community_id)),
            "reversal": selectors.reversal_of(tx),
            "can_reverse": can_reverse(request.user, tx),
            "key": new_key(),
            "reason": request.POST.get("reason", ""),
        },
    )


@login_required
def honours(request: HttpRequest) -> HttpResponse:
    community, communities = _staff_community(request)
    year = _int(request.GET.get("year") or request.POST.get("year")) or timezone.localdate().year
    kind = request.GET.get("kind") or request.POST.get("kind") or HonourKind.BEST_VOLUNTEER
    if kind not in (HonourKind.BEST_VOLUNTEER, HonourKind.GOVERNANCE_PIONEER):
        kind = HonourKind.BEST_VOLUNTEER
    if request.method == "POST":
        resident = Resident.objects.filter(pk=_int(request.POST.get("resident")) or 0).first()

        def go() -> Any:
            if resident is None:
                raise ValidationFailed(_("请选择居民。"))
            return services.honour_award(
                actor=request.user,
                community=community,
                resident=resident,
                kind=kind,
                year=year,
                citation=request.POST.get("citation", ""),
            )

        _attempt(request, go, _("已评选。"))
        return redirect(f"{request.path}?community={community.pk}&kind={kind}&year={year}")
    candidates = selectors.honour_candidates(
        viewer=request.user, community=community, kind=kind, year=year
    )
    return render(
        request,
        "ledger/honours.html",
        {
            "community": community,
            "communities": communities,
            "candidates": candidates,
            "kind": kind,
            "year": year,
            "kinds": [
                (HonourKind.BEST_VOLUNTEER, HonourKind.BEST_VOLUNTEER.label),
                (HonourKind.GOVERNANCE_PIONEER, HonourKind.GOVERNANCE_PIONEER.label),
            ],
            "awarded": selectors.hall_of_fame(community.pk, consented_only=False).filter(year=year),
        },
    )


def hall_of_fame(request: HttpRequest, community_id: int | None = None) -> HttpResponse:
    """社区名人堂: public, no login needed."""
    if community_id is None:
        scope = scope_of(request.user)
        community_id = scope.community_id or next(iter(sorted(scope.staff_community_ids())), None)
        if community_id is None:
            first = OrgUnit.objects.filter(kind="community").order_by("path").first()
            if first is None:
                raise NotFound()
            community_id = first.pk
    community = OrgUnit.objects.filter(pk=community_id, kind="community").first()
    if community is None:
        raise NotFound()
    honours_qs = selectors.hall_of_fame(community.pk)
    by_year: dict[int, list[Any]] = {}
    for h in honours_qs:
        by_year.setdefault(h.year, []).append(h)
    return render(request, "ledger/hall_of_fame.html", {"community": community, "by_year": by_year})


def staff_only(request: HttpRequest) -> None:
    if not scope_of(request.user).community_ids_for(*STAFF_ROLES, *OVERSIGHT_ROLES):
        raise NotFound()
