"""Submitting a questionnaire: by the resident, through a public link, or entered by
staff from paper or a phone call (代办, channel recorded).

One transaction: hold the survey against closing (``FOR KEY SHARE``), claim the
participation (``INSERT … ON CONFLICT DO NOTHING`` on its unique key: a second answer
from the same person — or the loser of two simultaneous ones — inserts nothing and is
refused), write the response and its answers, add to the running tallies and keyword
counts (one upsert each), one audit event. For an anonymous survey the participation
does not point at the response, and the audit event names the survey only.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Mapping
from datetime import date
from typing import Any, cast

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.scope import scope_of
from linli.communities.models import Building, Household, Resident
from linli.core import ratelimit
from linli.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from linli.core.types import Actor
from linli.core.writes import governed_write, insert_or_skip, share_lock
from linli.surveys.logic import Allowed, QuestionSpec, Value, clean_answers
from linli.surveys.models import (
    PROXY_CHANNELS,
    Answer,
    Audience,
    Channel,
    Participation,
    Question,
    Response,
    Survey,
    SurveyStatus,
    Tally,
    WordCount,
)
from linli.surveys.states import SURVEY, in_audience

ANSWERED = -1  # the tally option that counts respondents who answered a question
AGE_BANDS = ((0, 18, "<18"), (18, 35, "18-34"), (35, 50, "35-49"), (50, 60, "50-59"))
_STOP = frozenset(
    [
        "的",
        "了",
        "和",
        "是",
        "在",
        "我",
        "有",
        "也",
        "就",
        "都",
        "而",
        "及",
        "与",
        "着",
        "或",
        "一个",
        "没有",
        "我们",
        "你们",
        "他们",
        "这个",
        "那个",
        "希望",
        "可以",
        "还是",
        "比较",
        "非常",
        "社区",
        "建议",
        "就是",
        "因为",
        "所以",
        "但是",
        "如果",
        "这样",
        "一些",
        "什么",
        "需要",
    ]
)


def age_band(birth_year: int | None, today: date | None = None) -> str:
    """The respondent's age band for cross-tabs (no exact age is stored)."""
    if not birth_year:
        return ""
    age = (today or timezone.localdate()).year - birth_year
    for lo, hi, label in AGE_BANDS:
        if lo <= age < hi:
            return label
    return "60-74" if age < 75 else "75+"


def _keywords(text: str) -> set[str]:
    """Words of 2–20 characters, stop words and numbers left out; each word once."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return {
        w
        for w in jieba.lcut(text)
        if 2 <= len(w) <= 20 and w not in _STOP and not re.fullmatch(r"[\d\W_]+", w)
    }


def _tally_rows(
    specs: Mapping[str, QuestionSpec], ids: Mapping[str, int], answers: Mapping[str, Value]
) -> dict[tuple[int, int, int], tuple[int, float]]:
    """(question id, row, option) → (count, total) for one response."""
    rows: dict[tuple[int, int, int], tuple[int, float]] = {}

    def add(qid: int, row: int, option: int, total: float = 0.0) -> None:
        n, t = rows.get((qid, row, option), (0, 0.0))
        rows[(qid, row, option)] = (n + 1, t + total)

    for code, value in answers.items():
        q, qid = specs[code], ids[code]
        add(qid, 0, ANSWERED, float(value) if q.kind == "number" else 0.0)  # type: ignore[arg-type]
        if q.kind in ("single", "rating", "building"):
            add(qid, 0, cast(int, value))
        elif q.kind == "multiple":
            for o in cast(list[int], value):
                add(qid, 0, o)
        elif q.kind == "ranking":
            for rank, o in enumerate(cast(list[int], value), start=1):
                add(qid, rank, o)
        elif q.kind == "matrix":
            for r, v in enumerate(cast(list[int | None], value), start=1):
                if v is not None:
                    add(qid, r, v)
    return rows


def _upsert(table: str, key_cols: list[str], rows: list[tuple[Any, ...]], add: list[str]) -> None:
    """INSERT … ON CONFLICT (key) DO UPDATE adding ``add`` columns: one statement.
    Rows are sorted, so concurrent writers lock tally rows in the same order."""
    if not rows:
        return
    rows.sort()
    qn = connection.ops.quote_name
    cols = key_cols + add
    placeholders = ", ".join(["(" + ", ".join(["%s"] * len(cols)) + ")"] * len(rows))
    updates = ", ".join(f"{qn(c)} = {qn(table)}.{qn(c)} + EXCLUDED.{qn(c)}" for c in add)
    sql = (
        f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in cols)}) VALUES {placeholders} "  # noqa: S608
        f"ON CONFLICT ({', '.join(qn(c) for c in key_cols)}) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [v for row in rows for v in row])


def survey_answer(
    *,
    actor: Actor,
    survey: Survey,
    answers: Mapping[str, Any],
    resident: Resident | None = None,
    channel: str = Channel.WEB,
    visitor: str = "",
    ip: str | None = None,
) -> Response:
    """Submit one questionnaire.

    * A resident answers for themself (``resident`` None, ``channel`` web).
    * Staff enter a paper/phone/visit answer for ``resident`` (代办): ``channel`` must
      say which, and the participation records who entered it.
    * A public link: anyone, identified by ``visitor`` (a random id in their session).

    Refusals change nothing: not allowed, closed or not yet open, answered already,
    a required question left empty, a value outside its question's range."""
    proxy = resident is not None
    action = "answer_for" if proxy else "answer"
    SURVEY.check(actor, survey, action)
    scope = scope_of(actor)
    cid = survey.community_id
    if proxy:
        assert resident is not None
        if channel not in PROXY_CHANNELS:
            raise ValidationFailed(
                _("代录答卷须注明渠道：纸质问卷、电话或入户走访。"), field="channel"
            )
        if resident.community_id != cid or not in_audience(resident.pk, survey):
            raise ValidationFailed(_("该居民不在本问卷的调查范围内。"), field="resident")
        respondent_id: int | None = resident.pk
    elif survey.audience == Audience.PUBLIC and scope.resident_id is None:
        if not visitor:
            raise ValidationFailed(_("请允许浏览器保存会话后再填写。"), field="visitor")
        channel, respondent_id = Channel.PUBLIC, None
    else:
        channel, respondent_id = Channel.WEB, scope.resident_id
        if respondent_id is None:
            raise NotFound()

    questions = list(Question.objects.filter(community_id=cid, survey=survey).order_by("position"))
    specs = {q.code: QuestionSpec.from_obj(q) for q in questions}
    kinds = {q.kind for q in questions}
    allowed = Allowed(
        building_ids=frozenset(
            Building.objects.filter(community_id=cid).values_list("pk", flat=True)
        )
        if "building" in kinds
        else frozenset(),
        household_ids=frozenset(
            Household.objects.filter(community_id=cid).values_list("pk", flat=True)
        )
        if "household" in kinds
        else frozenset(),
    )
    cleaned = clean_answers(list(specs.values()), survey.pages or [], answers, allowed)
    if not cleaned:
        raise ValidationFailed(_("答卷是空的，请至少回答一道题。"), field="answers")

    building_id: int | None = None
    band = ""
    if respondent_id is not None:
        # The audience check read the same row; take it from there when it did.
        who = survey.__dict__.get("_resident_rows", {}).get(respondent_id) or (
            Resident.objects.filter(pk=respondent_id, community_id=cid)
            .values("household__building_id", "birth_year")
            .first()
        )
        if who is not None:
            building_id, band = who["household__building_id"], age_band(who["birth_year"])
    else:
        picked = next(
            (cleaned[q.code] for q in questions if q.kind == "building" and q.code in cleaned), None
        )
        building_id = cast(int | None, picked)

    if proxy:
        ratelimit.check("surveys.answer_for", user=actor)
    else:
        ratelimit.check("surveys.answer", user=actor if getattr(actor, "pk", None) else None, ip=ip)
    today = timezone.localdate()
    with governed_write(actor=actor, action="surveys.answer", community_id=cid) as w:
        # Closing takes FOR UPDATE on the survey: it waits for answers in flight, and
        # an answer that comes after it sees the new state.
        held = share_lock(Survey, survey.pk, ["status", "closes_at"], community_id=cid)
        if held is None:
            raise NotFound()
        status, closes_at = held
        if isinstance(closes_at, str):
            from django.utils.dateparse import parse_datetime

            closes_at = parse_datetime(closes_at)
        if status != SurveyStatus.OPEN or (closes_at is not None and closes_at <= timezone.now()):
            raise InvalidTransition(_("问卷已截止，不能再提交答卷。"))
        response = Response(
            community_id=cid,
            survey_id=survey.pk,
            submitted_on=today,
            channel=channel,
            building_id=building_id,
            age_band=band,
        )
        participation = Participation(
            community_id=cid,
            survey_id=survey.pk,
            resident_id=respondent_id,
            visitor="" if respondent_id is not None else visitor[:64],
            anonymous=survey.anonymous,
            # Foreign keys are checked at commit, so the link may name the response
            # before it is inserted.
            response_id=None if survey.anonymous else response.pk,
            channel=channel,
            entered_by_id=getattr(actor, "pk", None) if proxy else None,
            answered_on=today,
        )
        if not insert_or_skip(participation):
            raise Conflict(_("已经提交过这份问卷，每人只能提交一次。"), code="already_answered")
        response.save(force_insert=True)
        ids = {q.code: q.pk for q in questions}
        Answer.objects.bulk_create(_answer_rows(survey, response, specs, ids, cleaned))
        bkey = building_id or 0
        tallies = _tally_rows(specs, ids, cleaned)
        _upsert(
            Tally._meta.db_table,
            [
                "community_id",
                "survey_id",
                "question_id",
                "row",
                "option",
                "building_id_key",
                "age_band",
            ],
            [
                (cid, survey.pk, qid, row, opt, bkey, band, n, t)
                for (qid, row, opt), (n, t) in tallies.items()
            ],
            ["n", "total"],
        )
        words: Counter[tuple[int, str]] = Counter()
        for code, value in cleaned.items():
            if specs[code].kind == "text":
                for word in _keywords(cast(str, value)):
                    words[(ids[code], word)] += 1
        _upsert(
            WordCount._meta.db_table,
            ["community_id", "survey_id", "question_id", "word"],
            [(cid, survey.pk, qid, word, n) for (qid, word), n in words.items()],
            ["n"],
        )
        w.target = survey
        w.payload.update(channel=channel)
        if proxy:
            w.payload["resident"] = respondent_id
        if not survey.anonymous:
            w.payload["response"] = str(response.pk)
    return response


def _answer_rows(
    survey: Survey,
    response: Response,
    specs: Mapping[str, QuestionSpec],
    ids: Mapping[str, int],
    cleaned: Mapping[str, Value],
) -> list[Answer]:
    out: list[Answer] = []
    base = {"community_id": survey.community_id, "survey_id": survey.pk, "response": response}
    for code, value in cleaned.items():
        kind, qid = specs[code].kind, ids[code]
        if kind in ("multiple",):
            out += [Answer(question_id=qid, option=o, **base) for o in cast(list[int], value)]
        elif kind == "ranking":
            out += [
                Answer(question_id=qid, row=r, option=o, **base)
                for r, o in enumerate(cast(list[int], value), start=1)
            ]
        elif kind == "matrix":
            out += [
                Answer(question_id=qid, row=r, option=v, **base)
                for r, v in enumerate(cast(list[int | None], value), start=1)
                if v is not None
            ]
        elif kind == "number":
            out.append(Answer(question_id=qid, number=cast(float, value), **base))
        elif kind == "text":
            out.append(Answer(question_id=qid, text=cast(str, value), **base))
        elif kind == "date":
            out.append(Answer(question_id=qid, date=cast(date, value), **base))
        else:
            out.append(Answer(question_id=qid, option=cast(int, value), **base))
    return out


def has_answered(*, survey: Survey, resident_id: int | None = None, visitor: str = "") -> bool:
    qs = Participation.objects.filter(community_id=survey.community_id, survey=survey)
    if resident_id is not None:
        return qs.filter(resident_id=resident_id).exists()
    if visitor:
        return qs.filter(visitor=visitor).exists()
    return False
