"""Topics through the five steps (the table is :data:`linli.deliberation.states.TOPIC`),
and what residents and the council write along the way: comments in 商议, review
notes in 审议, objections in 公示."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.scope import scope_of
from linli.communities.models import OrgUnit
from linli.core import idempotency, ratelimit
from linli.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from linli.core.textlimit import within
from linli.core.transitions import Transition
from linli.core.types import Actor
from linli.core.writes import Write, governed_write, lock_row
from linli.deliberation import voting_bridge
from linli.deliberation.models import (
    Council,
    CouncilMember,
    Objection,
    ReviewNote,
    Topic,
    TopicComment,
)
from linli.deliberation.permissions import (
    acting_user_id,
    can_comment,
    can_manage,
    can_object,
    can_propose,
    can_review,
    manages,
)
from linli.deliberation.services.councils import settings_for
from linli.deliberation.states import (
    TOPIC,
    TOPIC_DATA_ACTIONS,
    TOPIC_EVENT,
    apply_scoped,
    topic_action_for,
)
from linli.notices.models import Channel, Notice
from linli.notices.services import notice_create, notice_publish

Step = Topic.Step

# The table, seen as (from, to) pairs: the only allowed moves; anything else (e.g.
# 提议 → 决议) is refused, there is no skipping.
TRANSITIONS: dict[tuple[str, str], Transition[Topic]] = {
    (src, t.target): t for t in TOPIC.table.values() for src in sorted(t.sources)
}


def allowed_next(step: str) -> list[tuple[str, Transition[Topic]]]:
    """(target step, transition) for every move out of ``step``, in table order."""
    return [(TOPIC[a].target, TOPIC[a]) for a in TOPIC.actions_from(step)]


def _skip_error(step: str, to: str) -> InvalidTransition:
    labels = dict(Step.choices)
    options = "、".join(str(labels[t]) for t, _t in allowed_next(step)) or _("无")
    return InvalidTransition(
        _("议题不能从「%(a)s」直接到「%(b)s」，不能跳过步骤；当前可以进入：%(o)s。")
        % {"a": labels.get(step, step), "b": labels.get(to, to), "o": options}
    )


def require_transition(topic: Topic, to: str) -> Transition[Topic]:
    """The table row for moving ``topic`` to ``to``; refuses any move not in the table."""
    action = topic_action_for(topic.step, to)
    if action is None:
        raise _skip_error(topic.step, to)
    return TOPIC[action]


def _sync(dst: Topic, src: Topic) -> None:
    """Give the caller's object the state written under the lock (no re-read)."""
    if dst is src:
        return
    dst.__dict__.update({k: v for k, v in src.__dict__.items() if k != "_state"})
    dst._state.fields_cache = dict(src._state.fields_cache)


def _run(
    *,
    actor: Actor,
    topic: Topic,
    action: str,
    reason: str = "",
    effects: Callable[[Topic, Write], None] | None = None,
) -> Topic:
    """Apply one row of :data:`TOPIC`. A move out of a step the action does not start
    from is refused as skipping (after the permission check, so nothing leaks)."""
    t = TOPIC[action]
    if topic.step not in t.sources:
        if not t.who(actor, topic):
            raise PermissionDenied(t.forbidden or _("只有本社区的社区工作者或书记可以推进议题。"))
        raise _skip_error(topic.step, t.target)

    def effects_and_event(row: Topic, w: Write) -> None:
        # One audit action for every step change, as the log has always had it.
        w.action = TOPIC_EVENT
        w.payload["action"] = action
        if effects is not None:
            effects(row, w)

    row = apply_scoped(
        TOPIC,
        actor=actor,
        obj=topic,
        action=action,
        reason=reason.strip(),
        effects=effects_and_event,
    )
    _sync(topic, row)
    return topic


def _hold_topic(topic: Topic) -> tuple[str, datetime | None]:
    """Read the topic's step and objection deadline and hold it against step changes
    until the transaction ends (``FOR KEY SHARE``: many writers of comments at once,
    while a step change's ``FOR UPDATE`` waits for them and is then seen by later
    ones). Filtered by the tenant. Precondition: inside a transaction."""
    lock = " FOR KEY SHARE" if connection.vendor == "postgresql" else ""
    table = connection.ops.quote_name(Topic._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT step, objections_until FROM {table} "  # noqa: S608
            f"WHERE id = %s AND community_id = %s{lock}",
            [topic.pk, topic.community_id],
        )
        row = cur.fetchone()
    if row is None:
        raise NotFound()
    step, until = row
    if isinstance(until, str):  # SQLite hands back text for raw queries
        until = datetime.fromisoformat(until)
    if until is not None and timezone.is_naive(until):
        until = until.replace(tzinfo=UTC)
    return str(step), until


def topic_propose(
    *,
    actor: Actor,
    community: OrgUnit,
    title: str,
    description: str,
    source: str = Topic.Source.RESIDENT,
    source_ref: str = "",
    idempotency_key: str = "",
) -> Topic:
    """议题征集: a resident proposes; staff also record topics from 微心愿 wishes and
    from frequent-request analysis (SPEC §10). A repeat with the same
    ``idempotency_key`` returns the first topic (see ``linli.core.idempotency``)."""
    if not can_propose(actor, community):
        raise PermissionDenied(_("只有本社区居民或社区工作人员可以提出议题。"))
    title = title.strip()
    description = within(description, field="description", limit=5000, label=_("背景和建议"))
    if not 4 <= len(title) <= 120:
        raise ValidationFailed(_("议题标题应为4–120字。"), field="title")
    if len(description) < 10:
        raise ValidationFailed(_("请用至少10个字说明议题的背景和建议。"), field="description")
    if source not in Topic.Source.values:
        raise ValidationFailed(_("未知的议题来源。"), field="source")
    if source != Topic.Source.RESIDENT and not manages(actor, community):
        raise PermissionDenied(_("只有社区工作人员可以登记此来源的议题。"))
    key = idempotency.clean(idempotency_key)
    ratelimit.check("deliberation.topic", user=actor)
    with governed_write(
        actor=actor,
        action="deliberation.topic_propose",
        community_id=community.pk,
        payload={"title": title, "source": source},
    ) as w:
        topic = Topic(
            community=community,
            title=title,
            description=description,
            source=source,
            source_ref=source_ref.strip(),
            proposer_id=acting_user_id(actor),
            idempotency_key=key,
        )
        prior = idempotency.replayed(
            w,
            topic,
            key=key,
            owned=lambda t: t.proposer_id == topic.proposer_id,
            queryset=Topic.objects.select_related("community"),
        )
        if prior is not None:  # the key is taken: a replay or a double post
            return prior
        w.target = topic
    return topic


def topic_transition(*, actor: Actor, topic: Topic, to: str, reason: str = "") -> Topic:
    """Move a topic along the table (the moves that need no extra input)."""
    reason = within(reason, field="reason", limit=500, label=_("理由"))
    if to in (Step.RESOLVING, Step.PUBLICISED):
        # These moves carry data (the ballot; the minutes), see their own services.
        raise InvalidTransition(_("请使用“发起表决”或“公示结果”完成此步骤。"))
    action = topic_action_for(topic.step, to)
    if action is None:
        if not manages(actor, topic):
            raise PermissionDenied(_("只有本社区的社区工作者或书记可以推进议题。"))
        raise _skip_error(topic.step, to)
    assert action not in TOPIC_DATA_ACTIONS
    return _run(actor=actor, topic=topic, action=action, reason=reason)


def topic_accept(*, actor: Actor, topic: Topic) -> Topic:
    return _run(actor=actor, topic=topic, action="accept")


def topic_reject(*, actor: Actor, topic: Topic, reason: str) -> Topic:
    """不予受理 (提议) or 审议不通过 (审议), whichever step the topic is in."""
    action = "review_reject" if topic.step == Step.REVIEWING else "reject"
    return _run(actor=actor, topic=topic, action=action, reason=reason)


def topic_submit_for_review(*, actor: Actor, topic: Topic) -> Topic:
    return _run(actor=actor, topic=topic, action="submit_review")


def topic_send_back(*, actor: Actor, topic: Topic, reason: str) -> Topic:
    return _run(actor=actor, topic=topic, action="send_back", reason=reason)


def topic_close(*, actor: Actor, topic: Topic) -> Topic:
    return _run(actor=actor, topic=topic, action="close")


def topic_reopen(*, actor: Actor, topic: Topic, reason: str) -> Topic:
    return _run(actor=actor, topic=topic, action="reopen", reason=reason)


def topic_open_vote(
    *,
    actor: Actor,
    topic: Topic,
    opens_at: datetime,
    closes_at: datetime,
    eligibility: str = "council",
    secret: bool = False,
) -> Topic:
    """审议 → 决议: open the ballot in the voting app and link it to the topic.

    A council vote (``eligibility="council"``) lets the current council members vote
    and needs ≥ 2/3 of members; a community-wide vote uses the 20 % online-participation
    rule (杭州规则). The ballot is created in the same transaction as the move, after
    the move's checks on the locked topic, so a refused move leaves nothing behind.
    """
    if not can_manage(actor, topic):
        raise PermissionDenied(_("只有本社区的社区工作者或书记可以发起表决。"))
    if closes_at <= opens_at:
        raise ValidationFailed(_("表决截止时间必须晚于开始时间。"), field="closes_at")
    if closes_at <= timezone.now():
        raise ValidationFailed(_("表决截止时间必须在将来。"), field="closes_at")

    def open_ballot(row: Topic, w: Write) -> None:
        voter_ids: list[int] | None = None
        if eligibility == "council":
            council = Council.objects.filter(
                community_id=row.community_id, kind=Council.Kind.COUNCIL
            ).first()
            voter_ids = (
                list(
                    CouncilMember.objects.filter(
                        community_id=row.community_id,
                        council=council,
                        is_active=True,
                        resident__isnull=False,
                    ).values_list("resident_id", flat=True)
                )
                if council
                else []
            )
            if not voter_ids:
                raise ValidationFailed(_("本社区议事会还没有成员，不能发起议事会表决。"))
        row.ballot = voting_bridge.open_ballot(
            actor=actor,
            topic=row,
            eligibility=eligibility,
            voter_resident_ids=voter_ids,
            opens_at=opens_at,
            closes_at=closes_at,
            secret=secret,
        )
        w.payload["ballot"] = row.ballot.pk

    return _run(actor=actor, topic=topic, action="open_vote", effects=open_ballot)


def topic_publicise(*, actor: Actor, topic: Topic, minutes: str) -> Topic:
    """决议 → 公示: publish the result (computed by the voting app) and the minutes,
    open the objections window, and publish a result notice to the community."""
    if not can_manage(actor, topic):
        raise PermissionDenied(_("只有本社区的社区工作者或书记可以公示结果。"))
    minutes = within(minutes, field="minutes", limit=10000, label=_("会议纪要"))
    if not minutes:
        raise ValidationFailed(_("公示必须附会议纪要。"), field="minutes")
    cfg = settings_for(topic.community_id)

    def publish(row: Topic, w: Write) -> None:
        assert row.ballot is not None  # guaranteed by the vote_closed guard
        outcome = voting_bridge.outcome(viewer=actor, ballot=row.ballot)
        now = timezone.now()
        row.minutes = minutes
        row.result_text = outcome.explanation
        row.result_passed = outcome.passed
        row.published_at = now
        row.objections_until = now + timedelta(days=cfg.objection_days)
        verdict = _("通过") if row.result_passed else _("未通过")
        notice = notice_create(
            actor=actor,
            community=row.community,
            title=_("议题决议公示：%(t)s") % {"t": row.title},
            summary=_("议题“%(t)s”表决%(v)s。如有异议，请在%(d)s前通过议事厅提出。")
            % {
                "t": row.title,
                "v": verdict,
                "d": timezone.localtime(row.objections_until).strftime("%Y-%m-%d %H:%M"),
            },
            body=f"{row.result_text}\n\n{_('会议纪要')}：\n{minutes}",
            channels=[Channel.WEB, Channel.INAPP, Channel.POSTER],
            kind=Notice.Kind.RESULT,
            source_type="deliberation.topic",
            source_id=str(row.pk),
        )
        notice_publish(actor=actor, notice=notice)
        w.payload.update(passed=outcome.passed, notice=notice.pk)

    return _run(actor=actor, topic=topic, action="publicise", effects=publish)


def topic_comment(
    *, actor: Actor, topic: Topic, body: str, idempotency_key: str = ""
) -> TopicComment:
    """商议: online discussion, open only while the topic is in 商议. A repeat with the
    same ``idempotency_key`` returns the first comment (``linli.core.idempotency``)."""
    if topic.step != Step.DISCUSSING:
        raise InvalidTransition(_("只有在“商议”阶段才能发表意见。"))
    if not can_comment(actor, topic):
        raise PermissionDenied(_("只有本社区居民可以参与商议。"))
    body = body.strip()
    if not 2 <= len(body) <= 1000:
        raise ValidationFailed(_("意见应为2–1000字。"), field="body")
    key = idempotency.clean(idempotency_key)
    ratelimit.check("deliberation.comment", user=actor)
    with governed_write(
        actor=actor,
        action="deliberation.comment",
        community_id=topic.community_id,
        payload={"topic": topic.pk, "length": len(body)},
    ) as w:
        step, _until = _hold_topic(topic)
        if step != Step.DISCUSSING:
            raise InvalidTransition(_("只有在“商议”阶段才能发表意见。"))
        comment = TopicComment(
            topic=topic,
            community_id=topic.community_id,
            author_id=acting_user_id(actor),
            resident_id=scope_of(actor).resident_id,
            body=body,
            idempotency_key=key,
        )
        prior = idempotency.replayed(
            w,
            comment,
            key=key,
            owned=lambda c: c.author_id == comment.author_id and c.topic_id == topic.pk,
        )
        if prior is not None:  # the key is taken: a replay or a double post
            return prior
        w.target = comment
    return comment


def review_note_add(
    *, actor: Actor, topic: Topic, aspect: str, conclusion: str, body: str
) -> ReviewNote:
    """审议: the council checks feasibility, budget and law."""
    if topic.step != Step.REVIEWING:
        raise InvalidTransition(_("只有在“审议”阶段才能填写审议意见。"))
    if not can_review(actor, topic):
        raise PermissionDenied(_("只有议事会成员或社区工作人员可以审议。"))
    if aspect not in ReviewNote.Aspect.values:
        raise ValidationFailed(_("未知的审议方面。"), field="aspect")
    if conclusion not in ReviewNote.Conclusion.values:
        raise ValidationFailed(_("未知的审议结论。"), field="conclusion")
    body = within(body, field="body", limit=1000, label=_("审议意见"))
    if len(body) < 4:
        raise ValidationFailed(_("请写明审议意见。"), field="body")
    with governed_write(
        actor=actor,
        action="deliberation.review_note",
        community_id=topic.community_id,
        payload={"topic": topic.pk, "aspect": aspect, "conclusion": conclusion, "body": body},
    ) as w:
        step, _until = _hold_topic(topic)
        if step != Step.REVIEWING:
            raise InvalidTransition(_("只有在“审议”阶段才能填写审议意见。"))
        note = ReviewNote.objects.create(
            topic=topic,
            community_id=topic.community_id,
            author_id=acting_user_id(actor),
            aspect=aspect,
            conclusion=conclusion,
            body=body,
        )
        w.target = note
    return note


def objection_file(*, actor: Actor, topic: Topic, body: str) -> Objection:
    if topic.step != Step.PUBLICISED:
        raise InvalidTransition(_("只有在公示期内才能提出异议。"))
    if not can_object(actor, topic):
        raise PermissionDenied(_("公示异议期已结束，或您不是本社区居民。"))
    body = body.strip()
    if not 4 <= len(body) <= 1000:
        raise ValidationFailed(_("异议内容应为4–1000字。"), field="body")
    with governed_write(
        actor=actor,
        action="deliberation.objection",
        community_id=topic.community_id,
        payload={"topic": topic.pk, "body": body},
    ) as w:
        # Re-check under the row lock, as comments and review notes do: the topic may
        # have been closed, or its window ended, since the caller loaded it.
        step, until = _hold_topic(topic)
        if step != Step.PUBLICISED or until is None or timezone.now() >= until:
            raise InvalidTransition(_("只有在公示期内才能提出异议。"))
        obj = Objection.objects.create(
            topic=topic, community_id=topic.community_id, author_id=acting_user_id(actor), body=body
        )
        w.target = obj
    return obj


def objection_answer(*, actor: Actor, objection: Objection, response: str) -> Objection:
    if not can_manage(actor, objection.topic):
        raise PermissionDenied()
    response = within(response, field="response", limit=1000, label=_("答复"))
    if not response:
        raise ValidationFailed(_("请填写答复。"), field="response")
    with governed_write(
        actor=actor,
        action="deliberation.objection_answer",
        community_id=objection.community_id,
        payload={"response": response},
    ) as w:
        obj = lock_row(Objection.objects.all(), objection.pk, community_id=objection.community_id)
        if obj.responded_at is not None:
            raise Conflict(_("该异议已答复。"))
        obj.response = response
        obj.responded_at = timezone.now()
        obj.save(update_fields=["response", "responded_at", "updated_at"])
        w.target = obj
    return obj
