"""Reads of the voting station that depend on who is looking, the tally with its
validity rule, and the independent recount from the audit chain."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from linli.accounts.scope import scope_of
from linli.communities import display
from linli.communities.models import Household, Resident
from linli.core.audit import verify_events
from linli.core.errors import NotFound, PermissionDenied
from linli.core.models import AuditEvent
from linli.voting import permissions as perms
from linli.voting.models import Ballot, ProxyGrant, Vote
from linli.voting.services import HOUSEHOLD_ELIGIBILITY, receipt_for, receipt_hash, voter_for
from linli.voting.validity import Evaluation, Totals, evaluate, explain_check, frac

# --------------------------------------------------------------------------- lists


def ballot_list_for(*, viewer: Any, community_id: int | None = None) -> QuerySet[Ballot]:
    scope = scope_of(viewer)
    qs = Ballot.objects.select_related("community")
    if not scope.is_platform_admin:
        staff_ids = scope.community_ids_for(*perms.WATCH_ROLES)
        visible = Q(community_id__in=staff_ids)
        if scope.community_id is not None:
            visible |= Q(community_id=scope.community_id, status__in=perms.PUBLIC_STATUSES)
        qs = qs.filter(visible)
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    return qs.order_by("-opens_at", "-id")


def ballot_get_for(*, viewer: Any, pk: int) -> Ballot:
    """Not found and not allowed look the same."""
    ballot = Ballot.objects.select_related("community").filter(pk=pk).first()
    if ballot is None or not perms.can_view_ballot(viewer, ballot):
        raise NotFound()
    return ballot


@dataclass
class VoterStatus:
    """What the viewer may do on one ballot."""

    eligible: bool
    reason: str = ""
    vote: Vote | None = None
    receipt: str = ""
    delegated_to: ProxyGrant | None = None
    proxies_held: list[ProxyGrant] = field(default_factory=list)
    # Household ballots: who in the household cast the vote (shown only to the
    # household's own members, the only viewers of this status), through the
    # privacy display helper; empty when the viewer cast it themself.
    cast_by_me: bool = False
    cast_by_name: str = ""
    # Owners' ballots: the units this vote is for and their area; the entries to
    # choose from when the viewer may cast several (e.g. a co-owned unit as well).
    units: list[str] = field(default_factory=list)
    area: Decimal | None = None
    entries: list[tuple[int, str]] = field(default_factory=list)
    # The existing vote cannot be changed from here (not allowed, or another
    # co-owner cast it).
    readonly: bool = False


def voter_status(*, viewer: Any, ballot: Ballot) -> VoterStatus:
    scope = scope_of(viewer)
    if scope.resident_id is None or ballot.status == Ballot.Status.DRAFT:
        return VoterStatus(eligible=False)
    me = Resident.objects.select_related("household").get(pk=scope.resident_id)
    held = list(
        ProxyGrant.objects.select_related("principal")
        .filter(community_id=ballot.community_id, ballot=ballot, agent=me, revoked_at__isnull=True)
        .order_by("pk")
    )
    entries: list[tuple[int, str]] = []
    if ballot.uses_owner_roll:
        from linli.voting.models import BallotVoterUnit
        from linli.voting.services import co_owner_refusal, voters_for

        mine = voters_for(ballot, me)
        if len(mine) > 1:
            labels: dict[int, list[str]] = {}
            for vid, b_name, unit, room in (
                BallotVoterUnit.objects.filter(community_id=ballot.community_id, voter__in=mine)
                .order_by("household_id")
                .values_list(
                    "voter_id", "household__building__name", "household__unit", "household__room"
                )
            ):
                labels.setdefault(vid, []).append(
                    Household(unit=unit, room=room).address_with(b_name)
                )
            entries = [(v.pk, "、".join(labels.get(v.pk, []))) for v in mine]
        voter = mine[0] if mine else None
        if voter is not None:
            refusal = co_owner_refusal(
                ballot,
                owner_count=voter.owner_count,
                representative_id=voter.representative_id,
                resident_id=me.pk,
            )
            if refusal is not None and len(mine) == 1:
                return VoterStatus(eligible=False, reason=str(refusal.message), proxies_held=held)
    else:
        voter = voter_for(ballot, me)
    if voter is None:
        from linli.voting.services import _not_eligible

        return VoterStatus(
            eligible=False, reason=str(_not_eligible(ballot, me).message), proxies_held=held
        )
    vote = Vote.objects.filter(community_id=ballot.community_id, voter=voter).first()
    delegated = (
        ProxyGrant.objects.select_related("agent")
        .filter(community_id=ballot.community_id, voter=voter, revoked_at__isnull=True)
        .first()
    )
    cast_by_me, cast_by_name = False, ""
    if vote is not None and ballot.eligibility in HOUSEHOLD_ELIGIBILITY and vote.cast_by_id:
        cast_by_me = vote.cast_by_id == me.pk
        if not cast_by_me:
            caster = (
                Resident.objects.select_related(*display.RESIDENT_RELATED)
                .filter(community_id=ballot.community_id, pk=vote.cast_by_id)
                .first()
            )
            cast_by_name = display.display_name(caster, viewer=viewer) if caster else ""
    units: list[str] = []
    if ballot.uses_owner_roll and not entries:
        from linli.voting.models import BallotVoterUnit

        units = [
            Household(unit=u, room=r).address_with(bn)
            for bn, u, r in BallotVoterUnit.objects.filter(
                community_id=ballot.community_id, voter=voter
            )
            .order_by("household_id")
            .values_list("household__building__name", "household__unit", "household__room")
        ]
    co_owner_cast = ballot.uses_owner_roll and vote is not None and not cast_by_me
    return VoterStatus(
        eligible=True,
        units=units,
        area=voter.area_m2 if ballot.uses_owner_roll else None,
        entries=entries,
        readonly=vote is not None and (not ballot.allow_change or co_owner_cast),
        cast_by_me=cast_by_me,
        cast_by_name=cast_by_name,
        vote=vote,
        receipt=receipt_for(vote.receipt_nonce) if vote is not None else "",
        delegated_to=delegated,
        proxies_held=held,
    )


@dataclass(frozen=True)
class ReceiptCheck:
    counted: bool
    choices: list[str] | None  # only on open (non-secret) ballots
    channel: str = ""


def receipt_check(*, viewer: Any, ballot: Ballot, code: str) -> ReceiptCheck:
    """Is the vote behind this receipt counted? On a secret ballot the answer never
    says what was chosen."""
    if not perms.can_view_ballot(viewer, ballot):
        raise NotFound()
    vote = Vote.objects.filter(
        community_id=ballot.community_id, ballot=ballot, receipt_hash=receipt_hash(code)
    ).first()
    if vote is None:
        return ReceiptCheck(counted=False, choices=None)
    labels = None if ballot.secret else [ballot.options[i] for i in vote.choices]
    return ReceiptCheck(counted=True, choices=labels, channel=vote.channel)


def counted_receipt_hashes(*, viewer: Any, ballot: Ballot) -> list[str]:
    """The published list: SHA-256 of every counted receipt, sorted (no order of
    casting, no names)."""
    if not perms.can_view_result(viewer, ballot):
        raise PermissionDenied(_("投票结束后公布计票清单。"))
    return sorted(
        Vote.objects.filter(community_id=ballot.community_id, ballot=ballot).values_list(
            "receipt_hash", flat=True
        )
    )


# --------------------------------------------------------------------------- tally


@dataclass(frozen=True)
class OptionResult:
    index: int
    label: str
    count: int
    area: Decimal
    meets: bool  # this option reaches the passing threshold (elections, choices)


@dataclass(frozen=True)
class BallotResult:
    ballot_id: int
    rule: str
    rule_label: str
    matter_class: str
    weighting: str
    final: bool
    valid: bool
    passed: bool | None
    eligible_count: int
    eligible_area: Decimal
    eligible_units: int
    participants: int
    participating_area: Decimal
    options: list[OptionResult]
    by_channel: dict[str, int]
    explanation: str


@dataclass(frozen=True)
class RawTally:
    """Counts a result is computed from; identical whether read from the vote table or
    replayed from the audit chain."""

    participants: int
    participating_area: Fraction
    option_counts: tuple[int, ...]
    option_areas: tuple[Fraction, ...]
    by_channel: tuple[tuple[str, int], ...]


def _raw_from_groups(
    n_options: int, groups: Iterable[tuple[list[int], int, Fraction, str]]
) -> RawTally:
    participants = 0
    area = Fraction(0)
    counts = [0] * n_options
    areas = [Fraction(0)] * n_options
    channels: dict[str, int] = {}
    for choices, n, a, channel in groups:
        participants += n
        area += a
        channels[channel] = channels.get(channel, 0) + n
        for c in choices:
            counts[c] += n
            areas[c] += a
    return RawTally(
        participants, area, tuple(counts), tuple(areas), tuple(sorted(channels.items()))
    )


def raw_tally(ballot: Ballot) -> RawTally:
    """One grouped query: votes with the same choices are summed in the database."""
    rows = (
        Vote.objects.filter(community_id=ballot.community_id, ballot=ballot)
        .values("choices", "channel")
        .annotate(n=Count("id"), area=Sum("area_m2"))
        .order_by()
    )
    return _raw_from_groups(
        len(ballot.options),
        ((list(r["choices"]), r["n"], frac(r["area"] or Decimal("0")), r["channel"]) for r in rows),
    )


def _totals(ballot: Ballot, raw: RawTally, option: int) -> Totals:
    return Totals(
        eligible_count=ballot.eligible_count,
        eligible_area=frac(ballot.eligible_area),
        participants=raw.participants,
        participating_area=raw.participating_area,
        yes_count=raw.option_counts[option],
        yes_area=raw.option_areas[option],
    )


def _to_decimal(x: Fraction) -> Decimal:
    return (Decimal(x.numerator) / Decimal(x.denominator)).quantize(Decimal("0.01"))


def compute_result(ballot: Ballot, raw: RawTally) -> BallotResult:
    evals: list[Evaluation] = [
        evaluate(
            rule=ballot.validity_rule,
            matter_class=ballot.matter_class,
            weighting=ballot.weighting,
            totals=_totals(ballot, raw, i),
        )
        for i in range(len(ballot.options))
    ]
    first = evals[0]
    valid = first.valid
    is_yes_no = ballot.kind == Ballot.Kind.YES_NO_ABSTAIN
    passed: bool | None = first.passed if is_yes_no else None
    options = [
        OptionResult(
            index=i,
            label=label,
            count=raw.option_counts[i],
            area=_to_decimal(raw.option_areas[i]),
            meets=evals[i].passed,
        )
        for i, label in enumerate(ballot.options)
    ]
    rule_label = str(Ballot.Rule(ballot.validity_rule).label)
    lines = [_("适用规则：%(rule)s") % {"rule": rule_label}]
    if ballot.validity_rule == Ballot.Rule.ART278:
        lines.append(_("事项类别：%(mc)s") % {"mc": Ballot.MatterClass(ballot.matter_class).label})
    if ballot.eligibility == Ballot.Eligibility.OWNERS and ballot.eligible_units:
        lines += owners_counting_lines(ballot)
    lines.append(_("一、参与表决（决定是否有效）："))
    lines += ["  " + explain_check(c) for c in first.participation_checks]
    lines.append(
        _("结论：参与%(ok)s。")
        % {"ok": _("达到要求，表决有效") if valid else _("未达到要求，表决无效")}
    )
    if is_yes_no:
        lines.append(_("二、表决结果（“同意”）："))
        lines += ["  " + explain_check(c) for c in first.pass_checks]
        lines.append(_("结论：%(v)s。") % {"v": _("通过") if passed else _("未通过")})
    else:
        lines.append(_("二、各选项得票："))
        for i, ev in enumerate(evals):
            lines.append("  " + _("【%(o)s】") % {"o": ballot.options[i]})
            lines += ["    " + explain_check(c) for c in ev.pass_checks]
    lines.append(_("计算使用精确分数，“以上”含本数，“过半数”须超过半数。"))
    return BallotResult(
        ballot_id=ballot.pk,
        rule=ballot.validity_rule,
        rule_label=rule_label,
        matter_class=ballot.matter_class,
        weighting=ballot.weighting,
        final=ballot.status == Ballot.Status.CLOSED,
        valid=valid,
        passed=passed,
        eligible_count=ballot.eligible_count,
        eligible_area=ballot.eligible_area,
        eligible_units=ballot.eligible_units,
        participants=raw.participants,
        participating_area=_to_decimal(raw.participating_area),
        options=options,
        by_channel=dict(raw.by_channel),
        explanation="\n".join(lines),
    )


def owners_counting_lines(ballot: Ballot) -> list[str]:
    """The counting rule of owners' ballots and both numbers of the roll."""
    return [
        _(
            "计数规则：依《最高人民法院关于审理建筑物区分所有权纠纷案件适用法律若干问题的"
            "解释》（法释〔2009〕7号）第八、九条，面积按专有部分面积计算；业主人数按专有部分"
            "套数计算，一套计一人，但同一业主拥有多套的计为一人，建设单位未出售和已出售未"
            "交付的房屋合计为一人。"
        ),
        _(
            "名册（开始投票时固定）：专有部分 %(units)d 套，总面积 %(area)s，"
            "计为业主 %(owners)d 人。"
        )
        % {
            "units": ballot.eligible_units,
            "area": f"{Decimal(ballot.eligible_area):.2f}㎡",
            "owners": ballot.eligible_count,
        },
    ]


def ballot_result(*, viewer: Any, ballot: Ballot) -> BallotResult:
    """The tally and the verdict of the ballot's validity rule. Residents see it once
    voting has closed; organisers also while it is open."""
    if not perms.can_view_ballot(viewer, ballot):
        raise NotFound()
    if not perms.can_view_result(viewer, ballot):
        raise PermissionDenied(_("投票结束后公布结果。"), code="result_not_public")
    return compute_result(ballot, raw_tally(ballot))


# --------------------------------------------------------------------------- audit replay

VOTE_ACTIONS = ("voting.vote_cast", "voting.vote_changed", "voting.vote_ratified")


@dataclass(frozen=True)
class AuditRecount:
    events: int
    raw: RawTally
    eligible_count: int
    eligible_area: Decimal
    receipt_hashes: frozenset[str]
    duplicates: int  # vote_cast twice for one voter without a change/withdrawal between


def recount_from_audit(ballot: Ballot) -> AuditRecount:
    """Rebuild the tally from the ballot's audit events alone (no vote table), so
    anyone with access can check the published numbers."""
    events = (
        AuditEvent.objects.filter(target_type="voting.ballot", target_id=str(ballot.pk))
        .order_by("id")
        .values_list("action", "payload")
        .iterator(chunk_size=5000)
    )
    state: dict[str, tuple[tuple[int, ...], Fraction, str, str]] = {}
    eligible_count = 0
    eligible_area = Decimal("0")
    n = 0
    duplicates = 0
    area_cache: dict[str, Fraction] = {}
    for action, payload in events:
        n += 1
        if action == "voting.ballot_opened":
            eligible_count = int(payload["eligible_count"])
            eligible_area = Decimal(payload["eligible_area"])
        elif action in VOTE_ACTIONS:
            tag = payload["voter"]
            if action != "voting.vote_changed" and tag in state:
                duplicates += 1
            a = payload["area"]
            fa = area_cache.get(a)
            if fa is None:
                fa = area_cache[a] = frac(Decimal(a))
            state[tag] = (
                tuple(payload["choices"]),
                fa,
                payload["channel"],
                payload["receipt_hash"],
            )
        elif action == "voting.vote_withdrawn":
            state.pop(payload["voter"], None)
    grouped: dict[tuple[tuple[int, ...], str], list[Any]] = {}
    for choices, area, channel, _rh in state.values():
        g = grouped.setdefault((choices, channel), [0, Fraction(0)])
        g[0] += 1
        g[1] += area
    raw = _raw_from_groups(
        len(ballot.options), ((list(c), g[0], g[1], ch) for (c, ch), g in grouped.items())
    )
    return AuditRecount(
        events=n,
        raw=raw,
        eligible_count=eligible_count,
        eligible_area=eligible_area,
        receipt_hashes=frozenset(s[3] for s in state.values()),
        duplicates=duplicates,
    )


@dataclass(frozen=True)
class TallyVerification:
    ok: bool
    events: int
    live: BallotResult
    replayed: BallotResult
    differences: list[str]


def tally_verify(*, viewer: Any, ballot: Ballot) -> TallyVerification:
    """Compare the published tally with the recount from the audit chain."""
    live = ballot_result(viewer=viewer, ballot=ballot)
    rec = recount_from_audit(ballot)
    replay_ballot = Ballot(
        pk=ballot.pk,
        community_id=ballot.community_id,
        kind=ballot.kind,
        options=ballot.options,
        status=ballot.status,
        validity_rule=ballot.validity_rule,
        matter_class=ballot.matter_class,
        weighting=ballot.weighting,
        eligible_count=rec.eligible_count,
        eligible_area=rec.eligible_area,
        eligibility=ballot.eligibility,
        eligible_units=ballot.eligible_units,
    )
    replayed = compute_result(replay_ballot, rec.raw)
    diffs: list[str] = []
    for name in (
        "eligible_count",
        "eligible_area",
        "participants",
        "participating_area",
        "valid",
        "passed",
    ):
        a, b = getattr(live, name), getattr(replayed, name)
        if a != b:
            diffs.append(f"{name}: {a} ≠ {b}")
    if live.options != replayed.options:
        diffs.append("options differ")
    live_hashes = set(
        Vote.objects.filter(community_id=ballot.community_id, ballot=ballot).values_list(
            "receipt_hash", flat=True
        )
    )
    if live_hashes != rec.receipt_hashes:
        diffs.append(
            f"receipts: {len(live_hashes - rec.receipt_hashes)} only in table, "
            f"{len(rec.receipt_hashes - live_hashes)} only in chain"
        )
    if rec.duplicates:
        diffs.append(f"duplicate votes in chain: {rec.duplicates}")
    # The recount is only as good as the events it read: each must match its own hash
    # and, once sealed, the signed checkpoint (a re-hashed vote fails here).
    brk = verify_events(
        AuditEvent.objects.filter(target_type="voting.ballot", target_id=str(ballot.pk)).iterator(
            chunk_size=5000
        )
    )
    if brk is not None:
        diffs.append(f"audit log: {brk}")
    return TallyVerification(not diffs, rec.events, live, replayed, diffs)


# --------------------------------------------------------------------------- owners' roll


@dataclass(frozen=True)
class RollRow:
    """One owner on an owners' roll, as the roll page lists it."""

    voter_id: int
    # (name, is a person — masked on the page; a developer's name is not) — empty for
    # an owner-occupied unit without a recorded owner.
    owners: list[tuple[str, bool]]
    units: list[str]  # addresses
    area: Decimal
    owner_count: int
    developer_held: bool
    legacy: bool
    representative: str  # name of the recorded representative (co-owned units)
    casters: list[tuple[int, str]]  # (resident id, name) who may cast online
    online: bool  # someone can cast it online (else: paper, entered by staff)


def owners_roll_rows(*, viewer: Any, ballot: Ballot) -> list[RollRow]:
    """The frozen owners' roll with names and units (organisers and watchers only).
    Five reads whatever the size: entries, units, casters, and the owners' names."""
    from linli.communities.models import Household, Organisation, OutsideOwner
    from linli.voting.models import BallotCaster, BallotVoter, BallotVoterUnit

    if not perms.can_view_roll(viewer, ballot) or not ballot.uses_owner_roll:
        raise NotFound()
    cid = ballot.community_id
    entries = list(BallotVoter.objects.filter(community_id=cid, ballot=ballot).order_by("pk"))
    units: dict[int, list[str]] = {}
    for vid, b_name, unit, room in (
        BallotVoterUnit.objects.filter(community_id=cid, ballot=ballot)
        .order_by("household__building__name", "household__unit", "household__room")
        .values_list("voter_id", "household__building__name", "household__unit", "household__room")
    ):
        units.setdefault(vid, []).append(Household(unit=unit, room=room).address_with(b_name))
    names: dict[int, str] = {}
    casters: dict[int, list[tuple[int, str]]] = {}
    for vid, rid, name in BallotCaster.objects.filter(community_id=cid, ballot=ballot).values_list(
        "voter_id", "resident_id", "resident__name"
    ):
        names[rid] = name
        casters.setdefault(vid, []).append((rid, name))
    keys = [k for e in entries for k in e.owner_key.split(":")[0].split("+")]
    r_ids = {int(k[1:]) for k in keys if k.startswith("r")} - set(names)
    o_ids = {int(k[1:]) for k in keys if k.startswith("o")}
    d_ids = {int(k[1:]) for k in keys if k.startswith("d")}
    label: dict[str, str] = {f"r{i}": n for i, n in names.items()}
    if r_ids:
        label |= {
            f"r{i}": n for i, n in Resident.objects.filter(pk__in=r_ids).values_list("pk", "name")
        }
    if o_ids:
        label |= {
            f"o{i}": n
            for i, n in OutsideOwner.objects.filter(pk__in=o_ids).values_list("pk", "name")
        }
    if d_ids:
        label |= {
            f"d{i}": n
            for i, n in Organisation.objects.filter(pk__in=d_ids).values_list("pk", "name")
        }
    rows = []
    for e in entries:
        legacy = e.owner_key.startswith("h")
        owners = (
            []
            if legacy
            else [
                (label.get(k, k), not k.startswith("d"))
                for k in e.owner_key.split(":")[0].split("+")
            ]
        )
        cs = casters.get(e.pk, [])
        rows.append(
            RollRow(
                voter_id=e.pk,
                owners=owners,
                units=units.get(e.pk, []),
                area=e.area_m2,
                owner_count=e.owner_count,
                developer_held=e.developer_held,
                legacy=legacy,
                representative=names.get(e.representative_id, "") if e.representative_id else "",
                casters=cs,
                online=bool(cs),
            )
        )
    return rows
