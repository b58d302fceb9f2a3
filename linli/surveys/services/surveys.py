"""Building and running surveys: create (also from a shipped template), set the
questions, open / close / reopen / publish results (through ``SURVEY``), remind the
audience through a notice, and the closing sweep."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.communities.models import Building, OrgUnit
from linli.core import idempotency, ratelimit
from linli.core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import Write, governed_write, lock_row
from linli.surveys.logic import QuestionSpec, validate_definition
from linli.surveys.models import (
    Audience,
    Group,
    Participation,
    Question,
    Survey,
    SurveyKind,
    SurveyStatus,
)
from linli.surveys.permissions import can_build_survey
from linli.surveys.states import SURVEY


@dataclass(frozen=True)
class Settings:
    """A survey's settings as the builder form and the API give them."""

    title: str
    description: str = ""
    kind: str = SurveyKind.GENERAL
    anonymous: bool = True
    audience: str = Audience.COMMUNITY
    building_ids: tuple[int, ...] = ()
    groups: tuple[str, ...] = ()
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    series: str = ""


def _clean_settings(community: OrgUnit, s: Settings) -> dict[str, Any]:
    title = within(s.title, field="title", limit=120, label=_("标题"))
    if len(title) < 2:
        raise ValidationFailed(_("请填写问卷标题（至少2个字）。"), field="title")
    description = within(s.description, field="description", limit=2000, label=_("说明"))
    if s.kind not in SurveyKind.values:
        raise ValidationFailed(_("未知的问卷类型。"), field="kind")
    if s.audience not in Audience.values:
        raise ValidationFailed(_("未知的调查对象。"), field="audience")
    buildings: list[int] = []
    groups: list[str] = []
    if s.audience == Audience.BUILDINGS:
        ids = set(s.building_ids)
        found = set(
            Building.objects.filter(pk__in=ids, community_id=community.pk).values_list(
                "pk", flat=True
            )
        )
        if not ids or found != ids:
            raise ValidationFailed(_("请选择本社区的楼栋。"), field="buildings")
        buildings = sorted(found)
    if s.audience == Audience.GROUPS:
        groups = list(dict.fromkeys(s.groups))
        if not groups or any(g not in Group.values for g in groups):
            raise ValidationFailed(_("请选择调查人群。"), field="groups")
    if s.opens_at and s.closes_at and s.closes_at <= s.opens_at:
        raise ValidationFailed(_("截止时间须晚于开始时间。"), field="closes_at")
    series = within(s.series, field="series", limit=40, label=_("系列"))
    return {
        "title": title,
        "description": description,
        "kind": s.kind,
        "anonymous": bool(s.anonymous),
        "audience": s.audience,
        "audience_buildings": buildings,
        "audience_groups": groups,
        "opens_at": s.opens_at,
        "closes_at": s.closes_at,
        "series": series,
    }


def _clean_pages(pages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"title": str(p.get("title", "")).strip(), "condition": p.get("condition") or None}
        for p in pages
    ]


def _write_questions(survey: Survey, specs: Sequence[QuestionSpec]) -> None:
    Question.objects.filter(community_id=survey.community_id, survey=survey).delete()
    Question.objects.bulk_create(
        [
            Question(
                community_id=survey.community_id,
                survey=survey,
                position=i + 1,
                page=q.page,
                code=q.code,
                kind=q.kind,
                text=q.text.strip(),
                help=q.help.strip(),
                required=q.required,
                options=[o.strip() for o in q.options],
                rows=[r.strip() for r in q.rows],
                min_choices=q.min_choices,
                max_choices=q.max_choices,
                min_value=q.min_value,
                max_value=q.max_value,
                max_length=q.max_length,
                condition=q.condition,
                jumps=q.jumps,
            )
            for i, q in enumerate(specs)
        ]
    )


def survey_create(
    *,
    actor: Actor,
    community: OrgUnit,
    settings: Settings,
    questions: Sequence[QuestionSpec] = (),
    pages: Sequence[Mapping[str, Any]] = (),
    idempotency_key: str = "",
) -> Survey:
    """A draft survey (optionally with its questions). A repeat with the same key
    returns the first one."""
    if not can_build_survey(actor, community):
        raise PermissionDenied(_("只有本社区的社区工作者或书记可以创建问卷。"))
    fields = _clean_settings(community, settings)
    clean_pages = _clean_pages(pages)
    validate_definition(questions, clean_pages, anonymous=fields["anonymous"])
    key = idempotency.clean(idempotency_key)
    ratelimit.check("surveys.create", user=actor)
    with governed_write(
        actor=actor, action="surveys.survey_create", community_id=community.pk
    ) as w:
        survey = Survey(
            community=community,
            created_by_id=getattr(actor, "pk", None),
            idempotency_key=key,
            pages=clean_pages,
            public_token=secrets.token_urlsafe(16) if fields["audience"] == Audience.PUBLIC else "",
            **fields,
        )
        prior = idempotency.replayed(
            w, survey, key=key, owned=lambda s: s.created_by_id == survey.created_by_id
        )
        if prior is not None:
            return prior
        _write_questions(survey, questions)
        w.target = survey
        w.payload.update(title=fields["title"], questions=len(questions))
    return survey


def _lock_draft(survey: Survey) -> Survey:
    row = lock_row(Survey.objects.all(), survey.pk, community_id=survey.community_id)
    if row.status != SurveyStatus.DRAFT:
        raise InvalidTransition(_("问卷已发布，不能再修改题目或设置；如需调整请复制一份新问卷。"))
    return row


def survey_update(*, actor: Actor, survey: Survey, settings: Settings) -> Survey:
    """Change a draft's settings."""
    if not can_build_survey(actor, survey.community_id):
        raise PermissionDenied(_("只有本社区的社区工作者或书记可以修改问卷。"))
    fields = _clean_settings(cast(OrgUnit, survey.community), settings)
    with governed_write(
        actor=actor, action="surveys.survey_update", community_id=survey.community_id
    ) as w:
        row = _lock_draft(survey)
        if fields["anonymous"]:
            validate_definition(
                [QuestionSpec.from_obj(q) for q in row.questions.all()],
                row.pages,
                anonymous=True,
            )
        for name, value in fields.items():
            setattr(row, name, value)
        if row.audience == Audience.PUBLIC and not row.public_token:
            row.public_token = secrets.token_urlsafe(16)
        row.save()
        w.target = row
        w.payload.update(title=row.title, audience=row.audience)
    survey.__dict__.update({k: v for k, v in row.__dict__.items() if k != "_state"})
    return survey


def survey_set_questions(
    *,
    actor: Actor,
    survey: Survey,
    questions: Sequence[QuestionSpec],
    pages: Sequence[Mapping[str, Any]] = (),
) -> Survey:
    """Replace a draft's questions and pages, checked as a whole (skip logic included):
    a refused definition leaves the draft as it was."""
    if not can_build_survey(actor, survey.community_id):
        raise PermissionDenied(_("只有本社区的社区工作者或书记可以修改问卷。"))
    clean_pages = _clean_pages(pages)
    validate_definition(questions, clean_pages, anonymous=survey.anonymous)
    with governed_write(
        actor=actor, action="surveys.questions_set", community_id=survey.community_id
    ) as w:
        row = _lock_draft(survey)
        validate_definition(questions, clean_pages, anonymous=row.anonymous)
        _write_questions(row, questions)
        row.pages = clean_pages
        row.save(update_fields=["pages", "updated_at"])
        w.target = row
        w.payload.update(questions=[q.code for q in questions])
    survey.pages = clean_pages
    return survey


def survey_from_template(
    *,
    actor: Actor,
    community: OrgUnit,
    template: str,
    idempotency_key: str = "",
    closes_at: datetime | None = None,
) -> Survey:
    """A draft from one of the shipped templates (``linli.surveys.templates_data``)."""
    from linli.surveys.templates_data import TEMPLATES

    tpl = TEMPLATES.get(template)
    if tpl is None:
        raise ValidationFailed(_("没有这个问卷模板。"), field="template")
    settings = Settings(
        title=tpl.title(),
        description=tpl.description,
        kind=tpl.kind,
        anonymous=tpl.anonymous,
        series=tpl.series,
        closes_at=closes_at,
    )
    return survey_create(
        actor=actor,
        community=community,
        settings=settings,
        questions=tpl.questions(),
        pages=tpl.pages,
        idempotency_key=idempotency_key,
    )


def survey_open(*, actor: Actor, survey: Survey) -> Survey:
    def effects(row: Survey, w: Write) -> None:
        if row.opens_at is None:
            row.opens_at = timezone.now()
        w.payload["closes_at"] = row.closes_at.isoformat() if row.closes_at else None

    row = SURVEY.apply(actor=actor, obj=survey, action="open", effects=effects)
    survey.opens_at = row.opens_at
    return survey


def survey_close(*, actor: Actor, survey: Survey) -> Survey:
    SURVEY.apply(actor=actor, obj=survey, action="close")
    return survey


def survey_reopen(*, actor: Actor, survey: Survey) -> Survey:
    SURVEY.apply(actor=actor, obj=survey, action="reopen")
    return survey


def survey_publish_results(*, actor: Actor, survey: Survey) -> Survey:
    """Residents may now see the results page (counts and charts only: free text is
    shown as keyword frequencies, and groups under 5 answers stay hidden)."""
    SURVEY.apply(actor=actor, obj=survey, action="publish_results")
    return survey


def close_due_surveys(*, now: datetime | None = None) -> int:
    """The sweep: close every open survey whose closing time has passed."""
    now = now or timezone.now()
    due = list(
        Survey.objects.filter(status=SurveyStatus.OPEN, closes_at__lte=now).only(
            "pk", "community_id", "status"
        )
    )
    for s in due:
        try:
            SURVEY.apply(actor=None, obj=s, action="close")
        except InvalidTransition:
            continue  # closed by staff meanwhile
    return len(due)


def survey_remind(*, actor: Actor, survey: Survey) -> Any:
    """Remind the audience through a published notice (``linli.notices``): the whole
    community or the chosen buildings; for groups, the residents in them who have not
    answered yet (the participation records say who answered, never what)."""
    from linli.communities.models import Resident
    from linli.notices.models import Channel as NoticeChannel
    from linli.notices.models import Notice
    from linli.notices.services import notice_create, notice_publish

    if not can_build_survey(actor, survey.community_id):
        raise PermissionDenied(_("只有本社区的社区工作者或书记可以发送提醒。"))
    if survey.status != SurveyStatus.OPEN:
        raise InvalidTransition(_("只有进行中的问卷可以发送提醒。"))
    if survey.audience == Audience.PUBLIC:
        raise Conflict(_("公开链接问卷没有固定的调查对象，请直接转发链接。"))
    audience = Notice.Audience.COMMUNITY
    resident_ids: list[int] = []
    if survey.audience == Audience.BUILDINGS:
        audience = Notice.Audience.BUILDINGS
    elif survey.audience == Audience.GROUPS:
        from linli.surveys.states import in_audience

        answered = set(
            Participation.objects.filter(
                community_id=survey.community_id, survey=survey, resident__isnull=False
            ).values_list("resident_id", flat=True)
        )
        candidates = Resident.objects.filter(
            community_id=survey.community_id, is_active=True
        ).values_list("pk", flat=True)
        resident_ids = [r for r in candidates if r not in answered and in_audience(r, survey)]
        if not resident_ids:
            raise Conflict(_("调查人群中的居民都已填写，无需提醒。"))
        audience = Notice.Audience.COUNCIL
    deadline = (
        timezone.localtime(survey.closes_at).strftime("%m-%d %H:%M") if survey.closes_at else ""
    )
    summary = (
        _("请抽几分钟填写问卷“%(t)s”，%(d)s前截止。") % {"t": survey.title, "d": deadline}
        if deadline
        else _("请抽几分钟填写问卷“%(t)s”。") % {"t": survey.title}
    )
    with transaction.atomic():
        notice = notice_create(
            actor=actor,
            community=cast(OrgUnit, survey.community),
            title=_("问卷提醒：%(t)s") % {"t": survey.title[:100]},
            body=summary + "\n" + _("在“邻里”首页进入“问卷调查”即可填写。"),
            summary=summary[:300],
            audience=audience,
            channels=(NoticeChannel.WEB, NoticeChannel.INAPP),
            building_ids=survey.audience_buildings,
            audience_resident_ids=resident_ids,
            source_type="surveys.survey",
            source_id=str(survey.pk),
        )
        notice_publish(actor=actor, notice=notice)
    return notice
