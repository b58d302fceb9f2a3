"""/api/v1/surveys/: surveys (build, open/close, answer, results, cross-tabs, XLSForm)
and 微心愿. Creates take an ``Idempotency-Key`` header (or ``idempotency_key``);
answering is once per person by the database anyway."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import File, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from linli.communities.models import OrgUnit, Resident
from linli.core import exports, idempotency
from linli.core.errors import NotFound, ValidationFailed
from linli.surveys import results, selectors, services, xlsform
from linli.surveys.logic import QuestionSpec
from linli.surveys.models import AnswerExport, Channel, ExportStatus, Survey, Wish
from linli.surveys.permissions import MANAGER_ROLES, PROXY_ROLES, community_ids
from linli.surveys.services import exports as export_jobs
from linli.surveys.states import SURVEY, WISH, reads_results

router = Router(tags=["surveys"])
# A required multipart file parameter (one instance shared by the handlers).
UPLOAD = File(...)


class QuestionIO(Schema):
    code: str
    kind: str
    text: str
    page: int = 1
    required: bool = True
    help: str = ""
    options: list[str] = []
    rows: list[str] = []
    min_choices: int | None = None
    max_choices: int | None = None
    min_value: int | None = None
    max_value: int | None = None
    max_length: int = 500
    condition: dict[str, Any] | None = None
    jumps: list[dict[str, Any]] = []


class PageIO(Schema):
    title: str = ""
    condition: dict[str, Any] | None = None


class SurveyIn(Schema):
    community_id: int
    title: str
    description: str = ""
    kind: str = "general"
    anonymous: bool = True
    audience: str = "community"
    building_ids: list[int] = []
    groups: list[str] = []
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    series: str = ""
    questions: list[QuestionIO] = []
    pages: list[PageIO] = []
    idempotency_key: str = ""


class TemplateIn(Schema):
    community_id: int
    template: str
    closes_at: datetime | None = None
    idempotency_key: str = ""


class DefinitionIn(Schema):
    questions: list[QuestionIO]
    pages: list[PageIO] = []


class SurveyOut(Schema):
    id: int
    community_id: int
    title: str
    description: str
    kind: str
    anonymous: bool
    audience: str
    status: str
    opens_at: datetime | None
    closes_at: datetime | None
    series: str
    public_token: str
    can: dict[str, bool]
    questions: list[QuestionIO]
    pages: list[PageIO]


class AnswerIn(Schema):
    answers: dict[str, Any]
    resident_id: int | None = None
    channel: str = "web"


class AnswerOut(Schema):
    ok: bool
    survey_id: int


class BarOut(Schema):
    label: str
    count: int
    pct: float


class ResultOut(Schema):
    code: str
    text: str
    kind: str
    answered: int
    hidden: bool
    bars: list[BarOut]
    grid_rows: list[str]
    grid_cols: list[str]
    grid: list[list[int]]
    mean: float | None
    keywords: list[tuple[str, int]]


class ResultsOut(Schema):
    survey_id: int
    responses: int
    min_group: int
    questions: list[ResultOut]


class CrossTabRow(Schema):
    group: str
    respondents: int
    percentages: list[float] | None


class CrossTabOut(Schema):
    question: str
    by: str
    columns: list[str]
    rows: list[CrossTabRow]


class XlsFormOut(Schema):
    filename: str
    content_base64: str


class WishIn(Schema):
    community_id: int
    group: str
    title: str
    detail: str = ""
    resident_id: int | None = None
    channel: str = "web"
    idempotency_key: str = ""


class WishOut(Schema):
    id: int
    community_id: int
    group: str
    status: str
    public_title: str
    public_text: str
    title: str | None
    detail: str | None
    points_awarded: int
    topic_id: int | None
    has_photo: bool
    can: dict[str, bool]


class WishActIn(Schema):
    public_title: str = ""
    public_text: str = ""
    reason: str = ""
    channel: str = "web"


class ToTopicIn(Schema):
    community_id: int
    wish_ids: list[int]
    title: str
    description: str
    idempotency_key: str = ""


class TopicOut(Schema):
    topic_id: int


# --------------------------------------------------------------------------- helpers


def _key(request: HttpRequest, body_key: str) -> str:
    return idempotency.clean(request.headers.get(idempotency.HEADER) or body_key)


def _community(request: HttpRequest, pk: int, roles: tuple[str, ...]) -> OrgUnit:
    if pk not in community_ids(request.user, roles):
        raise NotFound()
    c = OrgUnit.objects.filter(pk=pk, kind="community").first()
    if c is None:
        raise NotFound()
    return c


def _specs(items: list[QuestionIO]) -> list[QuestionSpec]:
    return [QuestionSpec.from_dict(q.dict()) for q in items]


def _survey_out(request: HttpRequest, s: Survey) -> SurveyOut:
    qs = selectors.questions_of(s)
    staff = reads_results(request.user, s)
    return SurveyOut(
        id=s.pk,
        community_id=s.community_id,
        title=s.title,
        description=s.description,
        kind=s.kind,
        anonymous=s.anonymous,
        audience=s.audience,
        status=s.status,
        opens_at=s.opens_at,
        closes_at=s.closes_at,
        series=s.series,
        public_token=s.public_token if staff else "",
        can=dict(SURVEY.flags(request.user, s)),
        questions=[QuestionIO(**QuestionSpec.from_obj(q).as_dict()) for q in qs],
        pages=[PageIO(**p) for p in (s.pages or [])],
    )


def _wish_out(request: HttpRequest, w: Wish) -> WishOut:
    private = selectors.sees_private(request.user, w)
    return WishOut(
        id=w.pk,
        community_id=w.community_id,
        group=w.group,
        status=w.status,
        public_title=w.public_title,
        public_text=w.public_text,
        title=w.title if private else None,
        detail=w.detail if private else None,
        points_awarded=w.points_awarded,
        topic_id=w.topic_id,
        has_photo=bool(w.photo),
        can=dict(WISH.flags(request.user, w)),
    )


# --------------------------------------------------------------------------- surveys


@router.get("/", response=list[SurveyOut])
def survey_list(request: HttpRequest) -> list[SurveyOut]:
    return [_survey_out(request, s) for s in selectors.surveys_for(request.user)[:100]]


@router.post("/", response={201: SurveyOut})
def survey_create(request: HttpRequest, body: SurveyIn) -> Status[SurveyOut]:
    community = _community(request, body.community_id, MANAGER_ROLES)
    s = services.survey_create(
        actor=request.user,
        community=community,
        settings=services.Settings(
            title=body.title,
            description=body.description,
            kind=body.kind,
            anonymous=body.anonymous,
            audience=body.audience,
            building_ids=tuple(body.building_ids),
            groups=tuple(body.groups),
            opens_at=body.opens_at,
            closes_at=body.closes_at,
            series=body.series,
        ),
        questions=_specs(body.questions),
        pages=[p.dict() for p in body.pages],
        idempotency_key=_key(request, body.idempotency_key),
    )
    return Status(201, _survey_out(request, s))


@router.post("/from-template", response={201: SurveyOut})
def survey_from_template(request: HttpRequest, body: TemplateIn) -> Status[SurveyOut]:
    community = _community(request, body.community_id, MANAGER_ROLES)
    s = services.survey_from_template(
        actor=request.user,
        community=community,
        template=body.template,
        closes_at=body.closes_at,
        idempotency_key=_key(request, body.idempotency_key),
    )
    return Status(201, _survey_out(request, s))


@router.get("/{survey_id}", response=SurveyOut)
def survey_get(request: HttpRequest, survey_id: int) -> SurveyOut:
    return _survey_out(request, selectors.survey_get_for(viewer=request.user, pk=survey_id))


@router.put("/{survey_id}/questions", response=SurveyOut)
def survey_questions(request: HttpRequest, survey_id: int, body: DefinitionIn) -> SurveyOut:
    s = selectors.survey_get_for(viewer=request.user, pk=survey_id)
    services.survey_set_questions(
        actor=request.user,
        survey=s,
        questions=_specs(body.questions),
        pages=[p.dict() for p in body.pages],
    )
    return _survey_out(request, s)


@router.post("/{survey_id}/open", response=SurveyOut)
def survey_open(request: HttpRequest, survey_id: int) -> SurveyOut:
    s = selectors.survey_get_for(viewer=request.user, pk=survey_id)
    return _survey_out(request, services.survey_open(actor=request.user, survey=s))


@router.post("/{survey_id}/close", response=SurveyOut)
def survey_close(request: HttpRequest, survey_id: int) -> SurveyOut:
    s = selectors.survey_get_for(viewer=request.user, pk=survey_id)
    return _survey_out(request, services.survey_close(actor=request.user, survey=s))


@router.post("/{survey_id}/reopen", response=SurveyOut)
def survey_reopen(request: HttpRequest, survey_id: int) -> SurveyOut:
    s = selectors.survey_get_for(viewer=request.user, pk=survey_id)
    return _survey_out(request, services.survey_reopen(actor=request.user, survey=s))


@router.post("/{survey_id}/publish-results", response=SurveyOut)
def survey_publish_results(request: HttpRequest, survey_id: int) -> SurveyOut:
    s = selectors.survey_get_for(viewer=request.user, pk=survey_id)
    return _survey_out(request, services.survey_publish_results(actor=request.user, survey=s))


@router.post("/{survey_id}/remind", response={201: dict[str, int]})
def survey_remind(request: HttpRequest, survey_id: int) -> Status[dict[str, int]]:
    s = selectors.survey_get_for(viewer=request.user, pk=survey_id)
    notice = services.survey_remind(actor=request.user, survey=s)
    return Status(201, {"notice_id": notice.pk})


@router.post("/{survey_id}/answers", response={201: AnswerOut})
def survey_answer(request: HttpRequest, survey_id: int, body: AnswerIn) -> Status[AnswerOut]:
    """Answer for oneself, or (staff, 代办) for ``resident_id`` with ``channel``
    paper / phone / visit."""
    s = selectors.survey_get_for(viewer=request.user, pk=survey_id)
    resident = None
    if body.resident_id is not None:
        resident = Resident.objects.filter(pk=body.resident_id, community_id=s.community_id).first()
        if resident is None:
            raise NotFound()
    services.survey_answer(
        actor=request.user,
        survey=s,
        answers=body.answers,
        resident=resident,
        channel=body.channel if resident is not None else Channel.WEB,
        ip=request.META.get("REMOTE_ADDR"),
    )
    return Status(201, AnswerOut(ok=True, survey_id=s.pk))


@router.post("/public/{token}/answers", response={201: AnswerOut}, auth=None)
def public_answer(request: HttpRequest, token: str, body: AnswerIn) -> Status[AnswerOut]:
    """A public-link survey. ``X-Visitor-Id`` (a random id the client keeps) stands in
    for the person: one answer per visitor id."""
    s = selectors.public_survey(token)
    visitor = (request.headers.get("X-Visitor-Id") or "").strip()[:64]
    if len(visitor) < 16:
        raise ValidationFailed("X-Visitor-Id (16–64 characters) is required.", field="visitor")
    services.survey_answer(
        actor=request.user,
        survey=s,
        answers=body.answers,
        visitor=visitor,
        ip=request.META.get("REMOTE_ADDR"),
    )
    return Status(201, AnswerOut(ok=True, survey_id=s.pk))


@router.get("/{survey_id}/results", response=ResultsOut)
def survey_results(request: HttpRequest, survey_id: int) -> ResultsOut:
    s = selectors.survey_get_for(viewer=request.user, pk=survey_id)
    if not selectors.results_visible(request.user, s):
        raise NotFound()
    res = results.question_results(s, selectors.questions_of(s))
    return ResultsOut(
        survey_id=s.pk,
        responses=results.response_count(s),
        min_group=results.MIN_GROUP,
        questions=[
            ResultOut(
                code=r.question.code,
                text=r.question.text,
                kind=r.question.kind,
                answered=r.answered,
                hidden=r.hidden,
                bars=[BarOut(label=b.label, count=b.count, pct=b.pct) for b in r.bars],
                grid_rows=r.grid_rows,
                grid_cols=r.grid_cols,
                grid=r.grid,
                mean=r.mean,
                keywords=r.keywords,
            )
            for r in res
        ],
    )


@router.get("/{survey_id}/crosstab", response=CrossTabOut)
def survey_crosstab(
    request: HttpRequest, survey_id: int, question: str, by: str = "building"
) -> CrossTabOut:
    s = selectors.survey_get_for(viewer=request.user, pk=survey_id)
    if not selectors.results_visible(request.user, s):
        raise NotFound()
    q = next((x for x in selectors.questions_of(s) if x.code == question), None)
    if q is None or q not in results.crosstab_questions([q]):
        raise NotFound()
    tab = results.crosstab(s, q, by="age_band" if by == "age_band" else "building")
    return CrossTabOut(
        question=q.code,
        by=tab.by,
        columns=tab.columns,
        rows=[CrossTabRow(group=g, respondents=n, percentages=p) for g, n, p in tab.rows],
    )


@router.get("/{survey_id}/export.csv")
def survey_export_csv(request: HttpRequest, survey_id: int) -> HttpResponse:
    s = selectors.survey_get_for(viewer=request.user, pk=survey_id)
    if not reads_results(request.user, s):
        raise NotFound()
    rows = results.export_rows(s, selectors.questions_of(s))
    return exports.csv_response(rows, f"survey-{s.pk}-answers.csv")


class ExportIn(Schema):
    fmt: str = "xlsx"


class ExportOut(Schema):
    id: int
    fmt: str
    status: str
    rows: int
    file_url: str | None


def _export_out(e: AnswerExport) -> ExportOut:
    ready = e.status == ExportStatus.READY
    return ExportOut(
        id=e.pk,
        fmt=e.fmt,
        status=e.status,
        rows=e.rows,
        file_url=f"/api/v1/surveys/{e.survey_id}/exports/{e.pk}/file" if ready else None,
    )


@router.post("/{survey_id}/exports", response={202: ExportOut})
def survey_export_start(request: HttpRequest, survey_id: int, payload: ExportIn) -> Any:
    """Make an answers export in the background (for large surveys); poll the
    export until ``status`` is ``ready``, then fetch ``file_url``."""
    s = selectors.survey_get_for(viewer=request.user, pk=survey_id)
    e = export_jobs.export_request(actor=request.user, survey=s, fmt=payload.fmt)
    e.refresh_from_db()  # an in-process task backend has made it already
    return Status(202, _export_out(e))


def _export_of(request: HttpRequest, survey_id: int, export_id: int) -> AnswerExport:
    s = selectors.survey_get_for(viewer=request.user, pk=survey_id)
    if not reads_results(request.user, s):
        raise NotFound()
    e = AnswerExport.objects.filter(community_id=s.community_id, survey=s, pk=export_id).first()
    if e is None:
        raise NotFound()
    return e


@router.get("/{survey_id}/exports/{export_id}", response=ExportOut)
def survey_export_status(request: HttpRequest, survey_id: int, export_id: int) -> ExportOut:
    return _export_out(_export_of(request, survey_id, export_id))


@router.get("/{survey_id}/exports/{export_id}/file")
def survey_export_file(request: HttpRequest, survey_id: int, export_id: int) -> FileResponse:
    e = _export_of(request, survey_id, export_id)
    if e.status != ExportStatus.READY or not e.file:
        raise NotFound()
    resp = FileResponse(
        e.file.open("rb"),
        as_attachment=True,
        filename=f"survey-{e.survey_id}-answers.{e.fmt}",
        content_type=exports.XLSX_TYPE if e.fmt == "xlsx" else "text/csv; charset=utf-8",
    )
    resp["Cache-Control"] = "no-store"
    return resp


@router.get("/{survey_id}/xlsform", response=XlsFormOut)
def survey_xlsform(request: HttpRequest, survey_id: int) -> XlsFormOut:
    s = selectors.survey_get_for(viewer=request.user, pk=survey_id)
    if not reads_results(request.user, s):
        raise NotFound()
    data = xlsform.to_bytes(
        xlsform.export_rows(
            title=s.title,
            form_id=f"linli_survey_{s.pk}",
            questions=[QuestionSpec.from_obj(q) for q in selectors.questions_of(s)],
            pages=s.pages or [],
        )
    )
    return XlsFormOut(
        filename=f"survey-{s.pk}-xlsform.xlsx", content_base64=base64.b64encode(data).decode()
    )


@router.post("/{survey_id}/xlsform", response=SurveyOut)
def survey_xlsform_import(
    request: HttpRequest, survey_id: int, file: UploadedFile = UPLOAD
) -> SurveyOut:
    """Replace a draft's questions with those of an XLSForm workbook."""
    s = selectors.survey_get_for(viewer=request.user, pk=survey_id)
    if file.size is None or file.size > 2_000_000:
        raise ValidationFailed("XLSForm larger than 2 MB.", field="file")
    _title, specs, pages = xlsform.import_xlsform(file.read())
    services.survey_set_questions(actor=request.user, survey=s, questions=specs, pages=pages)
    return _survey_out(request, s)


# --------------------------------------------------------------------------- wishes


@router.get("/wishes/wall", response=list[WishOut])
def wish_wall(request: HttpRequest) -> list[WishOut]:
    return [_wish_out(request, w) for w in selectors.wish_wall(request.user)[:100]]


@router.get("/wishes/mine", response=list[WishOut])
def wish_mine(request: HttpRequest) -> list[WishOut]:
    return [_wish_out(request, w) for w in selectors.my_wishes(request.user)[:100]]


@router.post("/wishes", response={201: WishOut})
def wish_post(request: HttpRequest, body: WishIn) -> Status[WishOut]:
    resident = None
    if body.resident_id is not None:
        community = _community(request, body.community_id, PROXY_ROLES)
        resident = Resident.objects.filter(pk=body.resident_id, community_id=community.pk).first()
        if resident is None:
            raise NotFound()
    else:
        found = OrgUnit.objects.filter(pk=body.community_id, kind="community").first()
        if found is None:
            raise NotFound()
        community = found
    w = services.wish_post(
        actor=request.user,
        community=community,
        group=body.group,
        title=body.title,
        detail=body.detail,
        resident=resident,
        channel=body.channel,
        idempotency_key=_key(request, body.idempotency_key),
    )
    return Status(201, _wish_out(request, w))


@router.get("/wishes/{wish_id}", response=WishOut)
def wish_get(request: HttpRequest, wish_id: int) -> WishOut:
    return _wish_out(request, selectors.wish_get_for(viewer=request.user, pk=wish_id))


@router.post("/wishes/{wish_id}/fulfil", response=WishOut)
def wish_fulfil(
    request: HttpRequest, wish_id: int, note: str = "", photo: UploadedFile = UPLOAD
) -> WishOut:
    w = selectors.wish_get_for(viewer=request.user, pk=wish_id)
    services.wish_fulfil(actor=request.user, wish=w, note=note, photo=photo)
    return _wish_out(request, w)


@router.post("/wishes/{wish_id}/{action}", response=WishOut)
def wish_act(request: HttpRequest, wish_id: int, action: str, body: WishActIn) -> WishOut:
    """publish (public_title, public_text) · reject (reason) · withdraw · claim ·
    release · confirm (channel when staff confirm for the wisher)."""
    w = selectors.wish_get_for(viewer=request.user, pk=wish_id)
    u = request.user
    if action == "publish":
        services.wish_publish(
            actor=u, wish=w, public_title=body.public_title, public_text=body.public_text
        )
    elif action == "reject":
        services.wish_reject(actor=u, wish=w, reason=body.reason)
    elif action == "withdraw":
        services.wish_withdraw(actor=u, wish=w)
    elif action == "claim":
        services.wish_claim(actor=u, wish=w)
    elif action == "release":
        services.wish_release(actor=u, wish=w, reason=body.reason)
    elif action == "confirm":
        services.wish_confirm(actor=u, wish=w, channel=body.channel)
    else:
        raise NotFound()
    return _wish_out(request, w)


@router.post("/wishes-to-topic", response={201: TopicOut})
def wishes_to_topic(request: HttpRequest, body: ToTopicIn) -> Status[TopicOut]:
    community = _community(request, body.community_id, MANAGER_ROLES)
    wishes = list(Wish.objects.filter(community_id=community.pk, pk__in=body.wish_ids))
    if len(wishes) != len(set(body.wish_ids)):
        raise NotFound()
    topic = services.wishes_to_topic(
        actor=request.user,
        community=community,
        wishes=wishes,
        title=body.title,
        description=body.description,
        idempotency_key=_key(request, body.idempotency_key),
    )
    return Status(201, TopicOut(topic_id=topic.pk))
