"""Voting pages: residents (list, vote, receipt check, result) and staff (create,
open/close, paper votes with two staff, written proxies, ratification, recount)."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from linli.accounts.scope import scope_of
from linli.communities.models import Resident
from linli.communities.selectors import communities_for
from linli.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from linli.voting import permissions as perms
from linli.voting import services
from linli.voting.forms import (
    BallotForm,
    PaperVoteForm,
    ProxyForm,
    RatificationForm,
    RepresentativeForm,
)
from linli.voting.models import Ballot, BallotVoter, ProxyGrant
from linli.voting.selectors import (
    ballot_get_for,
    ballot_list_for,
    ballot_result,
    counted_receipt_hashes,
    owners_roll_rows,
    receipt_check,
    tally_verify,
    voter_status,
)
from linli.voting.states import ballot_machine

RECEIPT_SESSION_KEY = "voting_last_receipt"


def _resident_in(ballot: Ballot, raw: str) -> Resident:
    raw = (raw or "").strip()
    qs = Resident.objects.select_related("household").filter(community_id=ballot.community_id)
    found = qs.filter(phone=raw).first() if len(raw) == 11 else None
    if found is None and raw.isdigit():
        found = qs.filter(pk=int(raw)).first()
    if found is None:
        raise ValidationFailed(_("本社区找不到编号或手机号为“%(raw)s”的居民。") % {"raw": raw})
    return found


def _choices_from(request: HttpRequest) -> list[str]:
    return request.POST.getlist("choice")


def _back(ballot: Ballot) -> HttpResponse:
    return redirect("voting:ballot_detail", pk=ballot.pk)


@login_required
def ballot_list(request: HttpRequest) -> HttpResponse:
    qs = ballot_list_for(viewer=request.user)
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    creatable = [
        c for c in communities_for(viewer=request.user) if perms.can_create_ballot(request.user, c)
    ]
    return render(request, "voting/ballot_list.html", {"page": page, "can_create": bool(creatable)})


@login_required
def ballot_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ballot = ballot_get_for(viewer=request.user, pk=pk)
    status = voter_status(viewer=request.user, ballot=ballot)
    u = request.user
    flags = ballot_machine.flags(u, ballot)
    # Why "结束投票" is not offered to an organiser of an open ballot (e.g. too early).
    close_refusal = None
    if ballot.status == Ballot.Status.OPEN and not flags["can_close"]:
        err = ballot_machine.refusal(u, ballot, "close")
        if isinstance(err, Conflict):
            close_refusal = str(err.message)
    ctx: dict[str, Any] = {
        "b": ballot,
        "phase": ballot.phase,
        "status": status,
        "can_manage": perms.manages_ballot(u, ballot),
        **flags,
        "close_refusal": close_refusal,
        "can_paper": perms.can_enter_paper_vote(u, ballot),
        "can_result": perms.can_view_result(u, ballot),
        "multiple": ballot.kind == Ballot.Kind.MULTIPLE,
        "options": list(enumerate(ballot.options)),
        "my_choices": set(status.vote.choices) if status.vote else set(),
        "last_receipt": request.session.pop(RECEIPT_SESSION_KEY, ""),
        "ratify_until": services.ratification_deadline(ballot),
        "proxies": (
            ProxyGrant.objects.filter(community_id=ballot.community_id, ballot=ballot)
            .select_related("principal", "agent")
            .order_by("-id")
            if perms.manages_ballot(u, ballot)
            else []
        ),
    }
    return render(request, "voting/ballot_detail.html", ctx)


@login_required
@require_POST
def vote(request: HttpRequest, pk: int) -> HttpResponse:
    ballot = ballot_get_for(viewer=request.user, pk=pk)
    on_behalf: Resident | None = None
    if request.POST.get("on_behalf_of"):
        on_behalf = _resident_in(ballot, request.POST["on_behalf_of"])
    try:
        result = services.vote_cast(
            actor=request.user,
            ballot=ballot,
            choices=_choices_from(request),
            idempotency_key=request.POST.get("idem", "")[:64] or None,
            on_behalf_of=on_behalf,
            voter_id=int(request.POST["voter"])
            if request.POST.get("voter", "").isdigit()
            else None,
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return _back(ballot)
    request.session[RECEIPT_SESSION_KEY] = result.receipt
    if result.unchanged:
        msg = _("您的选择没有变化，选票和回执码保持不变：%(r)s") % {"r": result.receipt}
    elif result.changed:
        msg = _("已改票，新的回执码：%(r)s（原回执码已失效）") % {"r": result.receipt}
    else:
        msg = _("投票成功！回执码：%(r)s（请保存，可用于核验您的票已计入）") % {"r": result.receipt}
    messages.success(request, msg)
    return _back(ballot)


@login_required
def receipt(request: HttpRequest, pk: int) -> HttpResponse:
    ballot = ballot_get_for(viewer=request.user, pk=pk)
    code = request.GET.get("code", "").strip()[:40]
    check = receipt_check(viewer=request.user, ballot=ballot, code=code) if code else None
    return render(request, "voting/receipt.html", {"b": ballot, "code": code, "check": check})


@login_required
def result(request: HttpRequest, pk: int) -> HttpResponse:
    ballot = ballot_get_for(viewer=request.user, pk=pk)
    res = ballot_result(viewer=request.user, ballot=ballot)
    total = res.participants or 1
    rows = [(o, o.count * 100 // total) for o in res.options]
    return render(
        request,
        "voting/result.html",
        {
            "b": ballot,
            "r": res,
            "rows": rows,
            "can_roll": ballot.eligible_units > 0 and perms.can_view_roll(request.user, ballot),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def roll(request: HttpRequest, pk: int) -> HttpResponse:
    """The owners' roll frozen at opening: owners with their units and area, how they
    are counted; organisers record a co-owned unit's representative here."""
    ballot = ballot_get_for(viewer=request.user, pk=pk)
    if request.method == "POST":
        form = RepresentativeForm(request.POST)
        try:
            if not form.is_valid():
                raise ValidationFailed(_("请选择代表并填写书面约定。"))
            d = form.cleaned_data
            entry = BallotVoter.objects.filter(
                community_id=ballot.community_id, ballot=ballot, pk=d["voter"]
            ).first()
            rep = Resident.objects.filter(
                community_id=ballot.community_id, pk=d["resident"]
            ).first()
            if entry is None or rep is None:
                raise NotFound()
            services.representative_set(
                actor=request.user, ballot=ballot, voter=entry, resident=rep, note=d["note"]
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("共有人代表已登记。"))
        return redirect("voting:roll", pk=ballot.pk)
    rows = owners_roll_rows(viewer=request.user, ballot=ballot)
    return render(
        request,
        "voting/roll.html",
        {
            "b": ballot,
            "rows": rows,
            "can_set_rep": perms.can_set_representative(request.user, ballot)
            and ballot.co_owner_rule == Ballot.CoOwnerRule.REPRESENTATIVE,
            "can_paper": perms.can_enter_paper_vote(request.user, ballot),
        },
    )


@login_required
def receipts_txt(request: HttpRequest, pk: int) -> HttpResponse:
    ballot = ballot_get_for(viewer=request.user, pk=pk)
    hashes = counted_receipt_hashes(viewer=request.user, ballot=ballot)
    body = "\n".join(hashes) + ("\n" if hashes else "")
    resp = HttpResponse(body, content_type="text/plain; charset=utf-8")
    resp["Content-Disposition"] = f'inline; filename="ballot-{ballot.pk}-receipts.txt"'
    return resp


@login_required
def verify(request: HttpRequest, pk: int) -> HttpResponse:
    ballot = ballot_get_for(viewer=request.user, pk=pk)
    v = tally_verify(viewer=request.user, ballot=ballot)
    return render(request, "voting/verify.html", {"b": ballot, "v": v})


# --------------------------------------------------------------------------- staff


@login_required
def ballot_new(request: HttpRequest) -> HttpResponse:
    communities = [
        c for c in communities_for(viewer=request.user) if perms.can_create_ballot(request.user, c)
    ]
    if not communities:
        raise NotFound()
    form = BallotForm(request.POST or None)
    chosen = communities[0]
    if request.method == "POST":
        cid = request.POST.get("community", "")
        chosen = next((c for c in communities if str(c.pk) == cid), communities[0])
        if form.is_valid():
            try:
                ballot = services.ballot_create(
                    actor=request.user, community=chosen, **form.service_kwargs()
                )
            except DomainError as exc:
                if exc.field and exc.field in form.fields:
                    form.add_error(exc.field, str(exc.message))
                else:
                    form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("投票已创建（草稿），检查无误后点击“开始投票”。"))
                return _back(ballot)
    return render(
        request,
        "voting/ballot_form.html",
        {"form": form, "communities": communities, "chosen": chosen},
    )


def _staff_action(request: HttpRequest, pk: int, fn: Any, ok: str, **kw: Any) -> HttpResponse:
    ballot = ballot_get_for(viewer=request.user, pk=pk)
    try:
        fn(actor=request.user, ballot=ballot, **kw)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, ok)
    return _back(ballot)


_OPEN_SALT = "voting.ballot_open.confirm"


@login_required
@require_http_methods(["GET", "POST"])
def ballot_open(request: HttpRequest, pk: int) -> HttpResponse:
    """开始投票 freezes the voter roll and cannot be undone, so it takes two steps,
    without JavaScript: the detail page's button (or a GET link) shows what will
    happen and how many voters the roll will hold; only the confirmation page's
    button (``confirm=1`` with its one-time signed token) opens the ballot. A second
    tap on that button after the ballot opened is told it is open, not refused."""
    ballot = ballot_get_for(viewer=request.user, pk=pk)
    if not perms.manages_ballot(request.user, ballot):
        raise NotFound()
    ok = _("投票已开始，选民名册已固定。")
    signer = signing.TimestampSigner(salt=_OPEN_SALT)
    if request.method == "POST" and request.POST.get("confirm") == "1":
        try:
            token = signer.unsign(request.POST.get("token", ""), max_age=3600)
        except signing.BadSignature:
            messages.error(request, _("确认已过期，请重新确认。"))
        else:
            if token.split(":")[:2] == [str(ballot.pk), str(request.user.pk)]:
                if ballot.status == Ballot.Status.OPEN and ballot.opened_at is not None:
                    messages.success(request, ok)  # the same confirmation, tapped twice
                    return _back(ballot)
                return _staff_action(request, pk, services.ballot_open, ok)
            messages.error(request, _("确认已过期，请重新确认。"))
    err = ballot_machine.refusal(request.user, ballot, "open")
    if err is not None:
        messages.error(request, str(err.message))
        return _back(ballot)
    return render(
        request,
        "voting/open_confirm.html",
        {
            "b": ballot,
            "roll_count": (preview := services.roll_preview(ballot)).count,
            "preview": preview,
            "token": signer.sign(f"{ballot.pk}:{request.user.pk}:{secrets.token_hex(8)}"),
        },
    )


@login_required
@require_POST
def ballot_close(request: HttpRequest, pk: int) -> HttpResponse:
    return _staff_action(request, pk, services.ballot_close, _("投票已结束，结果已公布。"))


@login_required
@require_POST
def ballot_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _staff_action(
        request,
        pk,
        services.ballot_cancel,
        _("投票已取消。"),
        reason=request.POST.get("reason", ""),
    )


@login_required
def paper_vote(request: HttpRequest, pk: int) -> HttpResponse:
    ballot = ballot_get_for(viewer=request.user, pk=pk)
    if not perms.manages_ballot(request.user, ballot):
        raise NotFound()
    form = PaperVoteForm(request.POST or None, initial={"entry": request.GET.get("entry", "")})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        # The second staff member confirms in person with their own password.
        second = authenticate(request, username=d["second_username"], password=d["second_password"])
        try:
            if second is None:
                raise ValidationFailed(_("第二位录入人账号或密码不正确。"))
            resident: Resident | None = None
            entry: BallotVoter | None = None
            if d["entry"]:
                # An owners' roll entry nobody can cast online (outside owner,
                # developer): the staff hold its signed paper ballot.
                entry = BallotVoter.objects.filter(
                    community_id=ballot.community_id, ballot=ballot, pk=d["entry"]
                ).first()
                if entry is None:
                    raise ValidationFailed(_("名册中没有这一项。"))
            else:
                resident = _resident_in(ballot, d["resident"])
            services.paper_vote_record(
                actor=request.user,
                second_staff=second,
                ballot=ballot,
                resident=resident,
                voter=entry,
                choices=_choices_from(request),
                note=d["note"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            who = (
                resident.name if resident is not None else _("名册第 %(n)s 项") % {"n": d["entry"]}
            )
            messages.success(request, _("纸质票已录入：%(n)s") % {"n": who})
            return redirect("voting:paper_vote", pk=ballot.pk)
    return render(
        request,
        "voting/paper_vote.html",
        {
            "b": ballot,
            "form": form,
            "options": list(enumerate(ballot.options)),
            "multiple": ballot.kind == Ballot.Kind.MULTIPLE,
        },
    )


@login_required
def proxies(request: HttpRequest, pk: int) -> HttpResponse:
    ballot = ballot_get_for(viewer=request.user, pk=pk)
    if not perms.manages_ballot(request.user, ballot):
        raise NotFound()
    form = ProxyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.proxy_grant(
                actor=request.user,
                ballot=ballot,
                principal=_resident_in(ballot, d["principal"]),
                agent=_resident_in(ballot, d["agent"]),
                mandate_text=d["mandate_text"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("书面委托已登记。"))
            return redirect("voting:proxies", pk=ballot.pk)
    grants = (
        ProxyGrant.objects.filter(community_id=ballot.community_id, ballot=ballot)
        .select_related("principal", "agent")
        .order_by("-id")
    )
    return render(request, "voting/proxies.html", {"b": ballot, "form": form, "grants": grants})


@login_required
@require_POST
def proxy_revoke(request: HttpRequest, pk: int, gid: int) -> HttpResponse:
    ballot = ballot_get_for(viewer=request.user, pk=pk)
    grant = (
        ProxyGrant.objects.filter(community_id=ballot.community_id, ballot=ballot, pk=gid)
        .select_related("ballot__community")
        .first()
    )
    scope = scope_of(request.user)
    if grant is None or not (
        perms.manages_ballot(request.user, ballot) or scope.resident_id == grant.principal_id
    ):
        raise NotFound()
    try:
        services.proxy_revoke(
            actor=request.user, proxy=grant, reason=request.POST.get("reason", "")
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("委托已撤销。"))
    return _back(ballot)


@login_required
@require_POST
def ratify(request: HttpRequest, pk: int) -> HttpResponse:
    """事后追认: a resident for themselves (no form fields) or staff from a written
    statement (``resident`` and ``mandate_text``)."""
    ballot = ballot_get_for(viewer=request.user, pk=pk)
    try:
        if request.POST.get("resident"):
            form = RatificationForm(request.POST)
            if not form.is_valid():
                raise ValidationFailed(_("请填写选民和书面追认材料。"))
            resident = _resident_in(ballot, form.cleaned_data["resident"])
            text = form.cleaned_data["mandate_text"]
        else:
            rid = scope_of(request.user).resident_id
            if rid is None:
                raise NotFound()
            resident = Resident.objects.select_related("household").get(pk=rid)
            text = ""
        r = services.ratification_record(
            actor=request.user,
            ballot=ballot,
            resident=resident,
            choices=_choices_from(request),
            mandate_text=text,
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        request.session[RECEIPT_SESSION_KEY] = r.receipt
        messages.success(request, _("事后追认已登记。回执码：%(r)s") % {"r": r.receipt})
    return _back(ballot)
