"""微心愿: a resident posts a small wish; staff check it and publish it without
personal details; a volunteer or partner claims it (one active claim per wish, held by
the database), fulfils it with a photo; the wisher confirms; the claimer earns points
by the community's 邻里互助 rule (``linli.ledger``). Repeated wishes can go to the
议事厅 as one topic (``linli.deliberation``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from linli.accounts.models import Role
from linli.accounts.scope import scope_of
from linli.communities.models import OrgUnit, Resident
from linli.core import idempotency, ratelimit
from linli.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import Write, governed_write, insert_or_skip
from linli.surveys.models import PROXY_CHANNELS, Channel, Wish, WishClaim, WishGroup
from linli.surveys.permissions import can_answer_for, manages_in, resident_in
from linli.surveys.states import WISH

# The ledger rule a fulfilled wish earns its claimer (when the community has it on).
EARN_KIND = "mutual_aid"


def wish_post(
    *,
    actor: Actor,
    community: OrgUnit,
    group: str,
    title: str,
    detail: str = "",
    resident: Resident | None = None,
    channel: str = Channel.WEB,
    idempotency_key: str = "",
) -> Wish:
    """A resident posts a wish, or staff enter one for ``resident`` (代办: ``channel``
    says paper, phone or visit). It waits for staff to check it."""
    if resident is not None:
        if not can_answer_for(actor, community):
            raise PermissionDenied(_("只有本社区工作人员可以代居民登记心愿。"))
        if resident.community_id != community.pk:
            raise ValidationFailed(_("该居民不属于本社区。"), field="resident")
        if channel not in PROXY_CHANNELS:
            raise ValidationFailed(_("代为登记须注明渠道：纸质、电话或入户走访。"), field="channel")
        wisher_id = resident.pk
    else:
        if not resident_in(actor, community):
            raise PermissionDenied(_("请用本社区居民账号登记心愿。"))
        wisher_id = cast(int, scope_of(actor).resident_id)
        channel = Channel.WEB
    if group not in WishGroup.values:
        raise ValidationFailed(_("请选择心愿人群。"), field="group")
    title = within(title, field="title", limit=60, label=_("心愿"))
    if len(title) < 2:
        raise ValidationFailed(_("请用一句话写下心愿。"), field="title")
    detail = within(detail, field="detail", limit=500, label=_("详细说明"))
    key = idempotency.clean(idempotency_key)
    ratelimit.check("surveys.wish", user=actor)
    with governed_write(actor=actor, action="surveys.wish_post", community_id=community.pk) as w:
        wish = Wish(
            community=community,
            wisher_id=wisher_id,
            group=group,
            title=title,
            detail=detail,
            channel=channel,
            entered_by_id=getattr(actor, "pk", None) if resident is not None else None,
            idempotency_key=key,
        )
        prior = idempotency.replayed(w, wish, key=key, owned=lambda x: x.wisher_id == wisher_id)
        if prior is not None:
            return prior
        w.target = wish
        w.payload.update(group=group, channel=channel)
    return wish


def _sync(dst: Wish, src: Wish) -> None:
    if dst is not src:
        dst.__dict__.update({k: v for k, v in src.__dict__.items() if k != "_state"})


def wish_publish(*, actor: Actor, wish: Wish, public_title: str, public_text: str = "") -> Wish:
    """Staff check the wish and publish it with their own wording: no name, no address,
    no phone (the wisher's own words stay private)."""
    WISH.check(actor, wish, "publish", reason=None)
    public_title = within(public_title, field="public_title", limit=60, label=_("公开标题"))
    public_text = within(public_text, field="public_text", limit=300, label=_("公开说明"))
    if len(public_title) < 2:
        raise ValidationFailed(_("请填写公开标题（不含姓名、门牌和电话）。"), field="public_title")
    for piece in (public_title, public_text):
        if _looks_personal(piece, wish):
            raise ValidationFailed(
                _("公开内容里似乎有姓名、电话或门牌号，请改写后再公开。"), field="public_text"
            )

    def effects(row: Wish, w: Write) -> None:
        row.public_title, row.public_text = public_title, public_text

    _sync(wish, WISH.apply(actor=actor, obj=wish, action="publish", effects=effects))
    return wish


def _looks_personal(text: str, wish: Wish) -> bool:
    import re

    if re.search(r"1[3-9]\d{9}", text) or re.search(r"\d+\s*(幢|栋|号楼|室)", text):
        return True
    name = Resident.objects.filter(pk=wish.wisher_id).values_list("name", flat=True).first()
    return bool(name and len(name) >= 2 and name in text)


def wish_reject(*, actor: Actor, wish: Wish, reason: str) -> Wish:
    reason = within(reason, field="reason", limit=300, label=_("理由"))
    _sync(wish, WISH.apply(actor=actor, obj=wish, action="reject", reason=reason))
    return wish


def wish_withdraw(*, actor: Actor, wish: Wish) -> Wish:
    _sync(wish, WISH.apply(actor=actor, obj=wish, action="withdraw"))
    return wish


def wish_claim(*, actor: Actor, wish: Wish) -> Wish:
    """Claim a published wish. The row lock serialises claimers; the partial unique
    key on active claims holds even if two got past it."""
    ratelimit.check("surveys.wish_claim", user=actor)
    scope = scope_of(actor)
    orgs = scope.organisation_ids.get(Role.SOCIAL_ORG, set()) | scope.organisation_ids.get(
        Role.PROPERTY_STAFF, set()
    )

    def effects(row: Wish, w: Write) -> None:
        row.claimed_by_id = getattr(actor, "pk", None)
        claim = WishClaim(
            community_id=row.community_id,
            wish=row,
            claimer_id=cast(int, getattr(actor, "pk", None)),
            organisation_id=min(orgs) if orgs else None,
        )
        if not insert_or_skip(claim):
            raise Conflict(_("这个心愿已经被认领了。"), code="already_claimed")
        w.payload["claim"] = claim.pk

    try:
        row = WISH.apply(actor=actor, obj=wish, action="claim", effects=effects)
    except IntegrityError:
        raise Conflict(_("这个心愿已经被认领了。"), code="already_claimed") from None
    _sync(wish, row)
    return wish


def wish_release(*, actor: Actor, wish: Wish, reason: str = "") -> Wish:
    reason = within(reason, field="reason", limit=300, label=_("理由"))

    def effects(row: Wish, w: Write) -> None:
        WishClaim.objects.filter(community_id=row.community_id, wish=row, active=True).update(
            active=False
        )
        row.claimed_by_id = None

    _sync(wish, WISH.apply(actor=actor, obj=wish, action="release", reason=reason, effects=effects))
    return wish


def wish_fulfil(*, actor: Actor, wish: Wish, note: str, photo: Any = None) -> Wish:
    """The claimer reports the wish fulfilled, with a photo (checked and stripped of
    EXIF like every uploaded photo)."""
    from linli.requests.photos import clean_photo

    WISH.check(actor, wish, "fulfil")
    note = within(note, field="note", limit=300, label=_("圆梦说明"))
    if photo is None:
        raise ValidationFailed(_("请上传一张圆梦照片。"), field="photo")
    clean = clean_photo(photo, name="wish")

    def effects(row: Wish, w: Write) -> None:
        row.fulfil_note = note
        row.photo.save(clean.content.name or "wish.jpg", clean.content, save=False)

    _sync(wish, WISH.apply(actor=actor, obj=wish, action="fulfil", effects=effects))
    return wish


def wish_confirm(*, actor: Actor, wish: Wish, channel: str = Channel.WEB) -> Wish:
    """The wisher (or staff for them, 代办) confirms; the claimer, when a resident of
    the community, earns points by the 邻里互助 rule (if the community has it on;
    capped by the rule's limits). The award's key is the wish, so it is paid once."""
    from linli.ledger import services as ledger

    if not _is_wisher(actor, wish) and channel not in PROXY_CHANNELS:
        channel = Channel.PAPER

    def effects(row: Wish, w: Write) -> None:
        w.payload["channel"] = channel
        claimer = (
            Resident.objects.filter(
                community_id=row.community_id, user_id=row.claimed_by_id
            ).first()
            if row.claimed_by_id
            else None
        )
        if claimer is None:
            return
        try:
            with transaction.atomic():
                claim = ledger.earning_award(
                    actor=actor,
                    resident=claimer,
                    kind=EARN_KIND,
                    idempotency_key=f"wish-{row.pk}",
                    description=_("微心愿：%(t)s") % {"t": row.public_title[:40]},
                    clamp_to_cap=True,
                    authorised=True,
                )
        except ValidationFailed:
            return  # the community has no 邻里互助 rule: no points, the wish still closes
        if claim is not None:
            row.points_awarded = int(getattr(claim, "amount", 0) or 0)
            w.payload["points"] = row.points_awarded

    _sync(wish, WISH.apply(actor=actor, obj=wish, action="confirm", effects=effects))
    return wish


def _is_wisher(actor: Actor, wish: Wish) -> bool:
    return scope_of(actor).resident_id == wish.wisher_id


def wishes_to_topic(
    *,
    actor: Actor,
    community: OrgUnit,
    wishes: Sequence[Wish],
    title: str,
    description: str,
    idempotency_key: str = "",
) -> Any:
    """Repeated wishes (several people asking for the same thing) become one topic of
    the 议事厅, source 微心愿; the wishes remember it."""
    from linli.deliberation.models import Topic
    from linli.deliberation.services import topic_propose

    if not manages_in(actor, community):
        raise PermissionDenied(_("只有本社区的社区工作者或书记可以把心愿转为议题。"))
    if len(wishes) < 2:
        raise ValidationFailed(_("请至少选择两条相近的心愿。"), field="wishes")
    if any(w.community_id != community.pk for w in wishes):
        raise NotFound()
    if any(w.topic_id for w in wishes):
        raise Conflict(_("所选心愿中已有转为议题的。"))
    ids = sorted(w.pk for w in wishes)
    with transaction.atomic():
        topic = topic_propose(
            actor=actor,
            community=community,
            title=title,
            description=description,
            source=Topic.Source.WISH,
            source_ref="wish:" + ",".join(str(i) for i in ids),
            idempotency_key=idempotency_key,
        )
        with governed_write(
            actor=actor, action="surveys.wishes_to_topic", community_id=community.pk
        ) as w:
            Wish.objects.filter(community_id=community.pk, pk__in=ids).update(topic=topic)
            w.target = topic
            w.payload["wishes"] = ids
    for wish in wishes:
        wish.topic_id = topic.pk
    return topic


__all__ = [
    "wish_claim",
    "wish_confirm",
    "wish_fulfil",
    "wish_post",
    "wish_publish",
    "wish_reject",
    "wish_release",
    "wish_withdraw",
    "wishes_to_topic",
]
