"""Survey and 微心愿 pages. Every page works without JavaScript: answering goes step by
step (a step ends after any question that later questions on the page depend on, so
skip logic is decided on the server), charts have their data tables beside them."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.scope import scope_of
from linli.communities.models import Building, Household, OrgUnit, Resident
from linli.core import exports
from linli.core.errors import NotFound, PermissionDenied, ValidationFailed
from linli.core.web import datetime_or_none
from linli.core.web import int_or_none as _int
from linli.core.web import run_service as _attempt
from linli.surveys import results, selectors, services, xlsform
from linli.surveys.logic import Allowed as AllowedIds
from linli.surveys.logic import (
    QuestionSpec,
    Value,
    clean_value,
    parse_rule_text,
    rule_text,
    walk,
)
from linli.surveys.models import (
    PROXY_CHANNELS,
    AnswerExport,
    Audience,
    Channel,
    ExportStatus,
    Group,
    Question,
    QuestionKind,
    Survey,
    SurveyKind,
    WishGroup,
)
from linli.surveys.permissions import (
    MANAGER_ROLES,
    PROXY_ROLES,
    can_answer_for,
    can_build_survey,
    community_ids,
)
from linli.surveys.services import exports as export_jobs
from linli.surveys.states import SURVEY, WISH, reads_results
from linli.surveys.templates_data import TEMPLATES

STATUS_ACTIONS = ("open", "close", "reopen", "publish_results")

# --------------------------------------------------------------------------- lists


@login_required
def survey_list(request: HttpRequest) -> HttpResponse:
    surveys = selectors.surveys_for(request.user)
    done = selectors.answered_ids(request.user, surveys)
    manage = sorted(community_ids(request.user, MANAGER_ROLES))
    return render(
        request,
        "surveys/list.html",
        {
            "surveys": [(s, s.pk in done) for s in surveys],
            "can_create": bool(manage),
            "templates": TEMPLATES.values(),
        },
    )


@login_required
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    s = selectors.survey_get_for(viewer=request.user, pk=pk)
    questions = selectors.questions_of(s)
    scope = scope_of(request.user)
    answered = services.has_answered(survey=s, resident_id=scope.resident_id)
    ctx: dict[str, Any] = {
        "s": s,
        "questions": questions,
        "answered": answered,
        "can_answer": not answered and SURVEY.can(request.user, s, "answer"),
        "can_answer_for": SURVEY.can(request.user, s, "answer_for"),
        "status_buttons": [
            (a, SURVEY[a].label) for a in SURVEY.available(request.user, s, STATUS_ACTIONS)
        ],
        "can_edit": s.status == "draft" and can_build_survey(request.user, s.community_id),
        "can_results": selectors.results_visible(request.user, s),
        "staff": reads_results(request.user, s),
        "count": results.response_count(s) if reads_results(request.user, s) else None,
        "public_url": request.build_absolute_uri(reverse("surveys:public", args=[s.public_token]))
        if s.public_token and reads_results(request.user, s)
        else "",
        "rules": {q.pk: _rules_text(q) for q in questions},
    }
    return render(request, "surveys/detail.html", ctx)


def _rules_text(q: Question) -> str:
    parts = []
    if q.condition:
        verb = _("显示") if q.condition.get("then") == "show" else _("跳过")
        parts.append(_("当 %(r)s 时%(v)s本题") % {"r": rule_text(q.condition), "v": verb})
    for j in q.jumps or []:
        to = _("结束") if j.get("to") == "end" else j.get("to")
        parts.append(_("若 %(r)s 跳到 %(t)s") % {"r": rule_text({**j, "q": q.code}), "t": to})
    return "；".join(parts)


# --------------------------------------------------------------------------- answering


def _specs(questions: list[Question]) -> list[QuestionSpec]:
    return [QuestionSpec.from_obj(q) for q in questions]


def _step(
    specs: list[QuestionSpec], pages: list[Any], answers: dict[str, Any], pos: int
) -> list[int]:
    """Indexes of the questions to show now, starting at ``pos``: the rest of that page
    as far as (and including) the first question something later on the page depends
    on — so every rule is decided by answers already given."""
    shown = {q.code for q in walk(specs, pages, _typed(specs, answers))}
    page = specs[pos].page
    out: list[int] = []
    for i in range(pos, len(specs)):
        q = specs[i]
        if q.page != page:
            break
        if q.code in shown:
            out.append(i)
        later = specs[i + 1 :]
        depended = (
            bool(q.jumps)
            or any((x.condition or {}).get("q") == q.code for x in later if x.page == page)
            or any(
                ((p.get("condition") or {}).get("q") == q.code)
                for p in pages
                if isinstance(p, dict)
            )
        )
        if depended and q.code in shown:
            break
    return out


def _typed(specs: list[QuestionSpec], raw: dict[str, Any]) -> dict[str, Value]:
    """Typed answers for deciding which step comes next (pickers accept any id here;
    the service checks every answer properly when the whole response is submitted)."""
    out: dict[str, Value] = {}
    allowed = AllowedIds(
        building_ids=frozenset(
            int(v) for v in raw.values() if isinstance(v, int | str) and str(v).isdigit()
        ),
        household_ids=frozenset(
            int(v) for v in raw.values() if isinstance(v, int | str) and str(v).isdigit()
        ),
    )
    for q in specs:
        if q.code in raw:
            try:
                out[q.code] = clean_value(q, raw[q.code], allowed)
            except ValidationFailed:
                continue
    return out


def _next_pos(
    specs: list[QuestionSpec], pages: list[Any], answers: dict[str, Any], after: int
) -> int | None:
    shown = {q.code for q in walk(specs, pages, _typed(specs, answers))}
    for i in range(after, len(specs)):
        if specs[i].code in shown:
            return i
    return None


def _read_posted(q: QuestionSpec, post: QueryDict) -> Any:
    name = f"q_{q.code}"
    if q.kind == "multiple":
        return post.getlist(name)
    if q.kind == "matrix":
        return {str(r): post.get(f"{name}_r{r}", "") for r in range(1, len(q.rows) + 1)}
    if q.kind == "ranking":
        ranks = {str(o): post.get(f"{name}_o{o}", "") for o in range(1, len(q.options) + 1)}
        return {k: v for k, v in ranks.items() if v}
    return post.get(name, "")


def _fill(request: HttpRequest, s: Survey, *, public: bool = False) -> HttpResponse:
    questions = selectors.questions_of(s)
    specs = _specs(questions)
    pages = list(s.pages or [])
    proxy_resident: Resident | None = None
    channel: str = Channel.WEB
    proxy_id = _int(request.POST.get("for_resident") or request.GET.get("for_resident"))
    if proxy_id is not None:
        if not can_answer_for(request.user, s.community_id):
            raise NotFound()
        proxy_resident = Resident.objects.filter(pk=proxy_id, community_id=s.community_id).first()
        if proxy_resident is None:
            raise NotFound()
        channel = request.POST.get("channel") or request.GET.get("channel") or Channel.PAPER
    action = "answer_for" if proxy_resident else "answer"
    err = SURVEY.refusal(request.user, s, action)
    if (
        err is not None
        and not isinstance(err, NotFound | PermissionDenied)
        or (err is not None and public)
    ):
        return render(request, "surveys/closed.html", {"s": s, "error": err}, status=200)
    if err is not None:
        raise err
    visitor = ""
    if public:
        visitor = request.session.get(f"survey_visitor_{s.pk}") or secrets.token_hex(16)
        request.session[f"survey_visitor_{s.pk}"] = visitor
    already = services.has_answered(
        survey=s,
        resident_id=proxy_resident.pk if proxy_resident else scope_of(request.user).resident_id,
        visitor=visitor if public and scope_of(request.user).resident_id is None else "",
    )
    if already:
        return render(request, "surveys/closed.html", {"s": s, "already": True})
    answers: dict[str, Any] = {}
    pos: int | None = 0
    error = ""
    if request.method == "POST":
        try:
            answers = json.loads(request.POST.get("answers_json") or "{}")
            if not isinstance(answers, dict):
                answers = {}
        except ValueError:
            answers = {}
        answers = {k: v for k, v in answers.items() if any(q.code == k for q in specs)}
        pos = _int(request.POST.get("pos")) or 0
        pos = min(max(pos, 0), max(len(specs) - 1, 0))
        step = _step(specs, pages, answers, pos)
        for i in step:
            q = specs[i]
            answers[q.code] = _read_posted(q, request.POST)
        try:
            for i in step:
                q = specs[i]
                raw = answers[q.code]
                empty = raw in ("", [], {}) or (isinstance(raw, dict) and not any(raw.values()))
                if empty:
                    answers.pop(q.code, None)
                    shown_now = {x.code for x in walk(specs, pages, _typed(specs, answers))}
                    if q.required and q.code in shown_now:
                        raise ValidationFailed(_("“%(q)s”：此题为必答题，请作答。") % {"q": q.text})
                    continue
                clean_value(q, raw, _allowed(s, q))
        except ValidationFailed as exc:
            error = str(exc.message)
        else:
            last = step[-1] if step else pos
            pos = _next_pos(specs, pages, answers, last + 1)
            if pos is None:
                ok = _attempt(
                    request,
                    lambda: services.survey_answer(
                        actor=request.user,
                        survey=s,
                        answers=answers,
                        resident=proxy_resident,
                        channel=channel,
                        visitor=visitor,
                        ip=request.META.get("REMOTE_ADDR"),
                    ),
                    _("提交成功，感谢您的参与！"),
                )
                if ok:
                    if public:
                        return render(request, "surveys/closed.html", {"s": s, "thanks": True})
                    if proxy_resident is not None:
                        return redirect("surveys:proxy", pk=s.pk)
                    return redirect("surveys:detail", pk=s.pk)
                pos = _next_pos(specs, pages, {}, 0) or 0
                answers = {}
            else:
                pos = pos
    if pos is None:
        pos = 0
    if not specs:
        raise NotFound()
    first = _next_pos(specs, pages, answers, pos)
    pos = first if first is not None else pos
    step = _step(specs, pages, answers, pos)
    page_no = specs[pos].page
    page_count = max(q.page for q in specs)
    page = pages[page_no - 1] if page_no <= len(pages) else {}
    items = []
    for i in step:
        question, spec = questions[i], specs[i]
        items.append(
            {
                "q": question,
                "value": answers.get(question.code),
                "options": list(enumerate(question.options or [], start=1)),
                "rows": list(enumerate(question.rows or [], start=1)),
                "ranks": list(range(1, len(question.options or []) + 1)),
                "choices": _picker_choices(s, spec),
            }
        )
    return render(
        request,
        "surveys/fill.html",
        {
            "s": s,
            "items": items,
            "pos": pos,
            "answers_json": json.dumps(answers, ensure_ascii=False),
            "page_no": page_no,
            "page_count": page_count,
            "page_title": (page or {}).get("title", ""),
            "error": error,
            "is_last": _is_last(specs, pages, answers, step),
            "action": request.path,
            "proxy": proxy_resident,
            "channel": channel,
            "channels": [(c.value, c.label) for c in Channel if c in PROXY_CHANNELS],
            "public": public,
        },
    )


def _is_last(
    specs: list[QuestionSpec], pages: list[Any], answers: dict[str, Any], step: list[int]
) -> bool:
    """Whether nothing can follow this step whatever is answered in it (then the
    button says 提交)."""
    if not step:
        return True
    return step[-1] == len(specs) - 1


def _allowed(s: Survey, q: QuestionSpec) -> AllowedIds:
    if q.kind == "building":
        return AllowedIds(
            building_ids=frozenset(
                Building.objects.filter(community_id=s.community_id).values_list("pk", flat=True)
            )
        )
    if q.kind == "household":
        return AllowedIds(
            household_ids=frozenset(
                Household.objects.filter(community_id=s.community_id).values_list("pk", flat=True)
            )
        )
    return AllowedIds()


def _picker_choices(s: Survey, q: QuestionSpec) -> list[tuple[int, str]]:
    if q.kind == "building":
        return list(
            Building.objects.filter(community_id=s.community_id)
            .order_by("name")
            .values_list("pk", "name")
        )
    if q.kind == "household":
        return [
            (h.pk, str(h))
            for h in Household.objects.filter(community_id=s.community_id)
            .select_related("building")
            .order_by("building__name", "unit", "room")[:3000]
        ]
    return []


@login_required
def survey_fill(request: HttpRequest, pk: int) -> HttpResponse:
    s = selectors.survey_get_for(viewer=request.user, pk=pk)
    return _fill(request, s)


def public_fill(request: HttpRequest, token: str) -> HttpResponse:
    s = selectors.public_survey(token)
    return _fill(request, s, public=True)


@login_required
def proxy_pick(request: HttpRequest, pk: int) -> HttpResponse:
    """代录: staff choose the resident whose paper or phone answer they enter."""
    s = selectors.survey_get_for(viewer=request.user, pk=pk)
    if not SURVEY.can(request.user, s, "answer_for"):
        raise NotFound()
    from linli.surveys.models import Participation
    from linli.surveys.states import in_audience

    done = set(
        Participation.objects.filter(
            community_id=s.community_id, survey=s, resident__isnull=False
        ).values_list("resident_id", flat=True)
    )
    term = (request.GET.get("q") or "").strip()[:20]
    residents = Resident.objects.filter(community_id=s.community_id, is_active=True).select_related(
        "household__building"
    )
    if term:
        residents = residents.filter(name__contains=term)
    rows = [
        r
        for r in residents.order_by("household__building__name", "household__room")[:300]
        if r.pk not in done and in_audience(r.pk, s)
    ][:100]
    return render(
        request,
        "surveys/proxy.html",
        {
            "s": s,
            "residents": rows,
            "term": term,
            "channels": [(c.value, c.label) for c in Channel if c in PROXY_CHANNELS],
        },
    )


# --------------------------------------------------------------------------- results


@login_required
def survey_results(request: HttpRequest, pk: int) -> HttpResponse:
    s = selectors.survey_get_for(viewer=request.user, pk=pk)
    if not selectors.results_visible(request.user, s):
        raise NotFound()
    staff = reads_results(request.user, s)
    questions = selectors.questions_of(s)
    res = results.question_results(s, questions)
    cross_qs = results.crosstab_questions(questions)
    by = "age_band" if request.GET.get("by") == "age_band" else "building"
    xq = next(
        (q for q in cross_qs if q.code == request.GET.get("xq")), cross_qs[0] if cross_qs else None
    )
    tab = results.crosstab(s, xq, by=by) if xq is not None else None
    trend = results.trend(s)
    return render(
        request,
        "surveys/results.html",
        {
            "s": s,
            "count": results.response_count(s),
            "results": res,
            "tab": tab,
            "cross_qs": cross_qs,
            "xq": xq,
            "by": by,
            "trend": trend,
            "trend_chart": {
                "type": "line",
                "categories": [t for t, _m, _n in trend],
                "series": [{"name": _("均值"), "data": [m for _t, m, _n in trend]}],
            },
            "staff": staff,
            "min_group": results.MIN_GROUP,
        },
    )


@login_required
def survey_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    s = selectors.survey_get_for(viewer=request.user, pk=pk)
    if not reads_results(request.user, s) or fmt not in export_jobs.FORMATS:
        raise NotFound()
    if results.response_count(s) > export_jobs.DIRECT_MAX:
        # Too large to build while the browser waits: made in the background.
        messages.info(request, _("答卷较多，请在本页生成导出文件，生成后下载。"))
        return redirect("surveys:exports", pk=s.pk)
    questions = selectors.questions_of(s)
    name = f"survey-{s.pk}-answers"
    if fmt == "csv":
        return exports.csv_response(results.export_rows(s, questions), f"{name}.csv")
    rows = results.export_rows(s, questions, cell=exports.xlsx_cell)
    return exports.xlsx_sheet_response("答卷", rows, f"{name}.xlsx", rendered=True)


@login_required
def survey_exports(request: HttpRequest, pk: int) -> HttpResponse:
    """Answers exports made in the background: ask for one (POST), see them being
    made (the page refreshes itself while one is) and download them."""
    s = selectors.survey_get_for(viewer=request.user, pk=pk)
    if not reads_results(request.user, s):
        raise NotFound()
    if request.method == "POST":
        fmt = request.POST.get("fmt", "")
        _attempt(
            request,
            lambda: export_jobs.export_request(actor=request.user, survey=s, fmt=fmt),
            _("已提交导出请求，文件生成后可在本页下载。"),
        )
        return redirect("surveys:exports", pk=s.pk)
    rows = list(
        AnswerExport.objects.filter(community_id=s.community_id, survey=s).order_by(
            "-created_at", "-pk"
        )[:10]
    )
    cutoff = timezone.now() - export_jobs.STALE
    for e in rows:
        if e.status == ExportStatus.QUEUED and e.created_at <= cutoff:
            e.status = ExportStatus.FAILED  # shown as lost (the worker never took it)
    count = results.response_count(s)
    return render(
        request,
        "surveys/exports.html",
        {
            "s": s,
            "rows": rows,
            "count": count,
            "large": count > export_jobs.DIRECT_MAX,
            "pending": any(e.status == ExportStatus.QUEUED for e in rows),
        },
    )


@login_required
def survey_export_file(request: HttpRequest, pk: int, export_id: int) -> FileResponse:
    s = selectors.survey_get_for(viewer=request.user, pk=pk)
    if not reads_results(request.user, s):
        raise NotFound()
    e = AnswerExport.objects.filter(
        community_id=s.community_id, survey=s, pk=export_id, status=ExportStatus.READY
    ).first()
    if e is None or not e.file:
        raise NotFound()
    resp = FileResponse(
        e.file.open("rb"),
        as_attachment=True,
        filename=f"survey-{s.pk}-answers.{e.fmt}",
        content_type=exports.XLSX_TYPE if e.fmt == "xlsx" else "text/csv; charset=utf-8",
    )
    resp["Cache-Control"] = "no-store"  # exports hold personal data
    return resp


@login_required
def survey_xlsform(request: HttpRequest, pk: int) -> HttpResponse:
    s = selectors.survey_get_for(viewer=request.user, pk=pk)
    if not reads_results(request.user, s):
        raise NotFound()
    sheets = xlsform.export_rows(
        title=s.title,
        form_id=f"linli_survey_{s.pk}",
        questions=_specs(selectors.questions_of(s)),
        pages=s.pages or [],
    )
    resp = HttpResponse(xlsform.to_bytes(sheets), content_type=exports.XLSX_TYPE)
    resp["Content-Disposition"] = f'attachment; filename="survey-{s.pk}-xlsform.xlsx"'
    return resp


# --------------------------------------------------------------------------- builder


def _my_communities(request: HttpRequest) -> list[OrgUnit]:
    ids = community_ids(request.user, MANAGER_ROLES)
    return list(OrgUnit.objects.filter(pk__in=ids, kind="community").order_by("name"))


def _settings_from(post: QueryDict) -> services.Settings:
    def when(name: str) -> datetime | None:
        raw = post.get(name) or ""
        value = datetime_or_none(raw.replace("T", " ") if raw else raw)
        if raw and value is None:
            raise ValidationFailed(_("时间格式不正确。"), field=name)
        if value is not None and timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value

    return services.Settings(
        title=post.get("title", ""),
        description=post.get("description", ""),
        kind=post.get("kind", SurveyKind.GENERAL),
        anonymous=post.get("anonymous") == "1",
        audience=post.get("audience", Audience.COMMUNITY),
        building_ids=tuple(
            i for i in (_int(x) for x in post.getlist("buildings")) if i is not None
        ),
        groups=tuple(post.getlist("groups")),
        opens_at=when("opens_at"),
        closes_at=when("closes_at"),
        series=post.get("series", ""),
    )


@login_required
def survey_new(request: HttpRequest) -> HttpResponse:
    communities = _my_communities(request)
    if not communities:
        raise NotFound()
    if request.method == "POST":
        community = next(
            (c for c in communities if c.pk == _int(request.POST.get("community"))), None
        )
        if community is None:
            messages.error(request, _("请选择社区。"))
        else:
            created: list[Survey] = []
            template = request.POST.get("template", "")

            def go() -> None:
                if template:
                    created.append(
                        services.survey_from_template(
                            actor=request.user,
                            community=community,
                            template=template,
                            idempotency_key=request.POST.get("idempotency_key", ""),
                        )
                    )
                else:
                    created.append(
                        services.survey_create(
                            actor=request.user,
                            community=community,
                            settings=_settings_from(request.POST),
                            idempotency_key=request.POST.get("idempotency_key", ""),
                        )
                    )

            if _attempt(request, go, _("问卷草稿已创建，请添加题目。")):
                return redirect("surveys:edit", pk=created[0].pk)
    return render(
        request,
        "surveys/new.html",
        {
            "communities": communities,
            "buildings": Building.objects.filter(community__in=communities).order_by("name"),
            "kinds": SurveyKind.choices,
            "audiences": Audience.choices,
            "groups": Group.choices,
            "templates": TEMPLATES.values(),
            "post": request.POST,
        },
    )


def _spec_from_post(post: QueryDict, code: str) -> QuestionSpec:
    def lines(name: str) -> list[str]:
        return [x.strip() for x in (post.get(name) or "").splitlines() if x.strip()]

    cond = parse_rule_text(post.get("condition", ""))
    if cond is not None:
        cond["then"] = "skip" if post.get("then") == "skip" else "show"
    jumps = []
    for line in lines("jumps"):
        if "->" not in line and "→" not in line:
            raise ValidationFailed(
                _("跳转写法：条件 -> 目标题号，例如 = 2 -> q5 或 in 1,2 -> end。"), field="jumps"
            )
        test, to = line.replace("→", "->").split("->", 1)
        rule = parse_rule_text(f"{code} {test.strip()}")
        assert rule is not None
        rule.pop("q", None)
        rule["to"] = to.strip()
        jumps.append(rule)
    return QuestionSpec(
        code=code,
        kind=post.get("kind", ""),
        text=post.get("text", ""),
        page=_int(post.get("page")) or 1,
        required=post.get("required") == "1",
        help=post.get("help", ""),
        options=lines("options"),
        rows=lines("rows"),
        min_choices=_int(post.get("min_choices")),
        max_choices=_int(post.get("max_choices")),
        min_value=_int(post.get("min_value")),
        max_value=_int(post.get("max_value")),
        max_length=_int(post.get("max_length")) or 500,
        condition=cond,
        jumps=jumps,
    )


@login_required
def survey_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The builder: settings, pages, and questions (add, change, remove, move)."""
    s = selectors.survey_get_for(viewer=request.user, pk=pk)
    if not can_build_survey(request.user, s.community_id):
        raise NotFound()
    questions = selectors.questions_of(s)
    specs = _specs(questions)
    editing = next((q for q in questions if q.code == request.GET.get("q")), None)
    if request.method == "POST":
        op = request.POST.get("op", "")
        pages = list(s.pages or [])

        def save(new: list[QuestionSpec], new_pages: list[Any] | None = None) -> None:
            services.survey_set_questions(
                actor=request.user,
                survey=s,
                questions=new,
                pages=new_pages if new_pages is not None else pages,
            )

        if op == "settings":
            ok = _attempt(
                request,
                lambda: services.survey_update(
                    actor=request.user, survey=s, settings=_settings_from(request.POST)
                ),
                _("设置已保存。"),
            )
        elif op in ("add", "change"):
            code = (request.POST.get("code") or "").strip()
            old = request.POST.get("old_code", "")

            def put() -> None:
                spec = _spec_from_post(request.POST, code)
                new = list(specs)
                if op == "change":
                    idx = next((i for i, x in enumerate(new) if x.code == old), None)
                    if idx is None:
                        raise NotFound()
                    new[idx] = spec
                else:
                    new.append(spec)
                save(new)

            ok = _attempt(request, put, _("题目已保存。"))
        elif op == "delete":
            code = request.POST.get("code", "")
            ok = _attempt(
                request, lambda: save([x for x in specs if x.code != code]), _("题目已删除。")
            )
        elif op in ("up", "down"):
            code = request.POST.get("code", "")
            new = list(specs)
            i = next((n for n, x in enumerate(new) if x.code == code), None)
            j = None if i is None else (i - 1 if op == "up" else i + 1)
            if i is not None and j is not None and 0 <= j < len(new):
                new[i], new[j] = new[j], new[i]
            ok = _attempt(request, lambda: save(new), _("顺序已调整。"))
        elif op == "pages":
            count = max((x.page for x in specs), default=1)
            new_pages = []
            for n in range(1, count + 1):
                cond = None
                try:
                    cond = parse_rule_text(request.POST.get(f"page_{n}_condition", ""))
                except ValidationFailed as exc:
                    messages.error(request, str(exc.message))
                    return redirect("surveys:edit", pk=s.pk)
                if cond is not None:
                    cond["then"] = (
                        "skip" if request.POST.get(f"page_{n}_then") == "skip" else "show"
                    )
                new_pages.append(
                    {"title": request.POST.get(f"page_{n}_title", ""), "condition": cond}
                )
            ok = _attempt(request, lambda: save(list(specs), new_pages), _("分页已保存。"))
        elif op == "import":
            upload = request.FILES.get("file")

            def imp() -> None:
                if upload is None or upload.size is None or upload.size > 2_000_000:
                    raise ValidationFailed(
                        _("请上传不超过2MB的 XLSForm（.xlsx）文件。"), field="file"
                    )
                _title, new, new_pages = xlsform.import_xlsform(upload.read())
                save(new, new_pages)

            ok = _attempt(request, imp, _("已从 XLSForm 导入题目。"))
        else:
            ok = False
        if ok:
            return redirect("surveys:edit", pk=s.pk)
        questions = selectors.questions_of(s)
    count = max((q.page for q in questions), default=1)
    return render(
        request,
        "surveys/edit.html",
        {
            "s": s,
            "questions": questions,
            "rules": {q.pk: _rules_text(q) for q in questions},
            "editing": editing,
            "edit_condition": rule_text(editing.condition) if editing and editing.condition else "",
            "edit_jumps": "\n".join(
                f"{rule_text({**j, 'q': ''}).strip()} -> {j.get('to')}"
                for j in (editing.jumps if editing else [])
            ),
            "kinds": QuestionKind.choices,
            "page_rows": [
                (
                    n,
                    (s.pages[n - 1] if n <= len(s.pages or []) else {}).get("title", ""),
                    rule_text((s.pages[n - 1] if n <= len(s.pages or []) else {}).get("condition")),
                    (
                        (s.pages[n - 1] if n <= len(s.pages or []) else {}).get("condition") or {}
                    ).get("then", "show"),
                )
                for n in range(1, count + 1)
            ],
            "next_code": f"q{len(questions) + 1}",
            "post": request.POST,
            "audiences": Audience.choices,
            "groups": Group.choices,
            "kinds_survey": SurveyKind.choices,
            "buildings": Building.objects.filter(community_id=s.community_id).order_by("name"),
        },
    )


@login_required
@require_POST
def survey_status(request: HttpRequest, pk: int) -> HttpResponse:
    s = selectors.survey_get_for(viewer=request.user, pk=pk)
    action = request.POST.get("action", "")
    fns = {
        "open": services.survey_open,
        "close": services.survey_close,
        "reopen": services.survey_reopen,
        "publish_results": services.survey_publish_results,
    }
    fn = fns.get(action)
    if fn is None:
        messages.error(request, _("未知的操作。"))
    else:
        _attempt(
            request,
            lambda: fn(actor=request.user, survey=s),
            _("已完成：%(a)s") % {"a": SURVEY[action].label},
        )
    return redirect("surveys:detail", pk=s.pk)


@login_required
@require_POST
def survey_remind(request: HttpRequest, pk: int) -> HttpResponse:
    s = selectors.survey_get_for(viewer=request.user, pk=pk)
    _attempt(
        request, lambda: services.survey_remind(actor=request.user, survey=s), _("提醒公告已发布。")
    )
    return redirect("surveys:detail", pk=s.pk)


# --------------------------------------------------------------------------- 微心愿


@login_required
def wish_wall(request: HttpRequest) -> HttpResponse:
    staff = bool(community_ids(request.user, PROXY_ROLES))
    return render(
        request,
        "surveys/wishes.html",
        {
            "wall": selectors.wish_wall(request.user)[:100],
            "mine": selectors.my_wishes(request.user)[:50],
            "claims": selectors.my_claims(request.user)[:50],
            "can_post": scope_of(request.user).resident_id is not None or staff,
            "staff": staff,
        },
    )


@login_required
def wish_queue(request: HttpRequest) -> HttpResponse:
    if not community_ids(request.user, PROXY_ROLES):
        raise NotFound()
    if request.method == "POST":
        ids = [i for i in (_int(x) for x in request.POST.getlist("wish")) if i is not None]
        wishes = [w for w in selectors.wish_queue(request.user).filter(pk__in=ids)]
        community = OrgUnit.objects.filter(pk=wishes[0].community_id).first() if wishes else None
        created: list[Any] = []

        def go() -> None:
            if community is None:
                raise ValidationFailed(_("请至少选择两条相近的心愿。"), field="wishes")
            created.append(
                services.wishes_to_topic(
                    actor=request.user,
                    community=community,
                    wishes=wishes,
                    title=request.POST.get("title", ""),
                    description=request.POST.get("description", ""),
                    idempotency_key=request.POST.get("idempotency_key", ""),
                )
            )

        if _attempt(request, go, _("已转为议事厅议题。")):
            return redirect("surveys:wish_queue")
    return render(
        request, "surveys/wish_queue.html", {"wishes": selectors.wish_queue(request.user)[:300]}
    )


@login_required
def wish_new(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    proxy_cids = community_ids(request.user, PROXY_ROLES)
    if scope.resident_id is None and not proxy_cids:
        raise NotFound()
    if request.method == "POST":
        resident = None
        rid = _int(request.POST.get("resident"))
        if rid is not None and proxy_cids:
            resident = Resident.objects.filter(pk=rid, community_id__in=proxy_cids).first()
            if resident is None:
                messages.error(request, _("找不到该居民。"))
                return redirect("surveys:wish_new")
        community_id = resident.community_id if resident else scope.community_id
        community = OrgUnit.objects.filter(pk=community_id or 0).first()
        if community is not None:

            def go() -> None:
                services.wish_post(
                    actor=request.user,
                    community=community,
                    group=request.POST.get("group", ""),
                    title=request.POST.get("title", ""),
                    detail=request.POST.get("detail", ""),
                    resident=resident,
                    channel=request.POST.get("channel", Channel.WEB),
                    idempotency_key=request.POST.get("idempotency_key", ""),
                )

            if _attempt(request, go, _("心愿已提交，社区审核后会公开（不显示您的姓名和住址）。")):
                return redirect("surveys:wishes")
    residents: list[Resident] = []
    if proxy_cids:
        residents = list(
            Resident.objects.filter(community_id__in=proxy_cids, is_active=True)
            .select_related("household__building")
            .order_by("household__building__name", "household__room")[:500]
        )
    return render(
        request,
        "surveys/wish_new.html",
        {
            "groups": WishGroup.choices,
            "residents": residents,
            "channels": [(c.value, c.label) for c in Channel if c in PROXY_CHANNELS],
            "is_resident": scope.resident_id is not None,
            "post": request.POST,
        },
    )


@login_required
def wish_detail(request: HttpRequest, pk: int) -> HttpResponse:
    w = selectors.wish_get_for(viewer=request.user, pk=pk)
    return render(
        request,
        "surveys/wish_detail.html",
        {
            "w": w,
            "private": selectors.sees_private(request.user, w),
            "can": WISH.flags(request.user, w),
            "channels": [(c.value, c.label) for c in Channel if c in PROXY_CHANNELS],
            "is_wisher": scope_of(request.user).resident_id == w.wisher_id,
        },
    )


@login_required
@require_POST
def wish_act(request: HttpRequest, pk: int) -> HttpResponse:
    w = selectors.wish_get_for(viewer=request.user, pk=pk)
    action = request.POST.get("action", "")
    post = request.POST
    user = request.user
    fns: dict[str, Any] = {
        "publish": lambda: services.wish_publish(
            actor=user,
            wish=w,
            public_title=post.get("public_title", ""),
            public_text=post.get("public_text", ""),
        ),
        "reject": lambda: services.wish_reject(actor=user, wish=w, reason=post.get("reason", "")),
        "withdraw": lambda: services.wish_withdraw(actor=user, wish=w),
        "claim": lambda: services.wish_claim(actor=user, wish=w),
        "release": lambda: services.wish_release(actor=user, wish=w, reason=post.get("reason", "")),
        "fulfil": lambda: services.wish_fulfil(
            actor=user, wish=w, note=post.get("note", ""), photo=request.FILES.get("photo")
        ),
        "confirm": lambda: services.wish_confirm(
            actor=user, wish=w, channel=post.get("channel", Channel.WEB)
        ),
    }
    fn = fns.get(action)
    if fn is None:
        messages.error(request, _("未知的操作。"))
    else:
        _attempt(request, fn, _("已完成：%(a)s") % {"a": WISH[action].label})
    return redirect("surveys:wish_detail", pk=w.pk)


@login_required
def wish_photo(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The fulfilment photo, for those who may see the wish."""
    w = selectors.wish_get_for(viewer=request.user, pk=pk)
    if not w.photo:
        raise NotFound()
    from django.http import FileResponse

    return FileResponse(w.photo.open("rb"))
