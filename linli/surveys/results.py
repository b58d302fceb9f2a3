"""Survey results, read from the running tallies (a few thousand rows however many
responses there are), with the small-group rule: any group — the whole survey, a
question, a building, an age band — with fewer than :data:`MIN_GROUP` answers is
hidden, so nobody can be picked out of a small crowd.

:func:`reference_counts` recomputes the same numbers straight from the answers; the
tests hold the two against each other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, StringAgg, Sum, TextField, Value
from django.db.models.functions import Cast, Concat
from django.utils.translation import gettext as _

from linli.communities.models import Building
from linli.surveys.models import Answer, Question, Response, Survey, SurveyStatus, Tally, WordCount
from linli.surveys.services.answers import AGE_BANDS, ANSWERED

MIN_GROUP = 5
AGE_BAND_LABELS = [b[2] for b in AGE_BANDS] + ["60-74", "75+"]


@dataclass
class Bar:
    label: str
    count: int
    pct: float


@dataclass
class QuestionResult:
    question: Question
    answered: int
    hidden: bool = False
    bars: list[Bar] = field(default_factory=list)  # choice, rating, building
    # matrix: rows × scale counts; ranking: options × rank counts
    grid_rows: list[str] = field(default_factory=list)
    grid_cols: list[str] = field(default_factory=list)
    grid: list[list[int]] = field(default_factory=list)
    mean: float | None = None  # rating, number; ranking: unused
    mean_ranks: list[tuple[str, float]] = field(default_factory=list)
    keywords: list[tuple[str, int]] = field(default_factory=list)

    @property
    def chart(self) -> dict[str, Any] | None:
        """The ECharts option for this question (None: a table says it all)."""
        if self.hidden:
            return None
        if self.bars:
            return {
                "type": "bar",
                "categories": [b.label for b in self.bars],
                "series": [{"name": _("人数"), "data": [b.count for b in self.bars]}],
            }
        if self.grid:
            return {
                "type": "stacked",
                "categories": self.grid_rows,
                "series": [
                    {"name": col, "data": [row[j] for row in self.grid]}
                    for j, col in enumerate(self.grid_cols)
                ],
            }
        if self.keywords:
            return {
                "type": "bar",
                "categories": [w for w, _n in self.keywords[:15]],
                "series": [{"name": _("提及次数"), "data": [n for _w, n in self.keywords[:15]]}],
            }
        return None

    @property
    def dom_id(self) -> str:
        return f"chart-{self.question.code}"

    @property
    def grid_pairs(self) -> list[tuple[str, list[int]]]:
        return list(zip(self.grid_rows, self.grid, strict=False))


def option_labels(q: Question, building_names: dict[int, str]) -> dict[int, str]:
    if q.kind == "rating":
        return {i: _("%(n)s分") % {"n": i} for i in range(1, 6)}
    if q.kind == "building":
        return dict(building_names)
    return {i: str(label) for i, label in enumerate(q.options or [], start=1)}


def _pct(n: int, of: int) -> float:
    return round(100.0 * n / of, 1) if of else 0.0


def _cells(survey: Survey, **filters: Any) -> dict[tuple[int, int, int], tuple[int, float]]:
    """(question, row, option) → (count, total), summed over the groups in one query."""
    rows = (
        Tally.objects.filter(community_id=survey.community_id, survey_id=survey.pk, **filters)
        .values("question_id", "row", "option")
        .annotate(n=Sum("n"), t=Sum("total"))
    )
    return {(r["question_id"], r["row"], r["option"]): (r["n"], r["t"] or 0.0) for r in rows}


def response_count(survey: Survey) -> int:
    return Response.objects.filter(community_id=survey.community_id, survey_id=survey.pk).count()


def question_results(
    survey: Survey,
    questions: Sequence[Question],
    *,
    keywords: bool = True,
    cells: dict[tuple[int, int, int], tuple[int, float]] | None = None,
) -> list[QuestionResult]:
    cells = _cells(survey) if cells is None else cells
    names = dict(
        Building.objects.filter(community_id=survey.community_id).values_list("pk", "name")
    )
    words: dict[int, list[tuple[str, int]]] = defaultdict(list)
    if keywords and any(q.kind == "text" for q in questions):
        for qid, word, n in (
            WordCount.objects.filter(community_id=survey.community_id, survey_id=survey.pk)
            .order_by("question_id", "-n", "word")
            .values_list("question_id", "word", "n")
        ):
            if len(words[qid]) < 30:
                words[qid].append((word, n))
    by_q: dict[int, dict[tuple[int, int], tuple[int, float]]] = defaultdict(dict)
    for (qid, row, opt), v in cells.items():
        by_q[qid][(row, opt)] = v
    out: list[QuestionResult] = []
    for q in questions:
        c = by_q.get(q.pk, {})
        answered, total = c.get((0, ANSWERED), (0, 0.0))
        res = QuestionResult(question=q, answered=answered)
        if answered < MIN_GROUP:
            res.hidden = True
            out.append(res)
            continue
        labels = option_labels(q, names)
        if q.kind in ("single", "multiple", "rating", "building"):
            keys = (
                list(labels)
                if q.kind != "building"
                else sorted({opt for (row, opt) in c if row == 0 and opt != ANSWERED})
            )
            res.bars = [Bar(labels.get(k, str(k)), c.get((0, k), (0, 0.0))[0], 0.0) for k in keys]
            for b in res.bars:
                b.pct = _pct(b.count, answered)
            if q.kind == "rating":
                s = sum(k * c.get((0, k), (0, 0.0))[0] for k in range(1, 6))
                res.mean = round(s / answered, 2)
        elif q.kind == "matrix":
            res.grid_rows = list(q.rows or [])
            res.grid_cols = list(q.options or [])
            res.grid = [
                [c.get((r, o), (0, 0.0))[0] for o in range(1, len(res.grid_cols) + 1)]
                for r in range(1, len(res.grid_rows) + 1)
            ]
        elif q.kind == "ranking":
            opts = list(q.options or [])
            res.grid_rows = opts
            res.grid_cols = [_("第%(n)s名") % {"n": r} for r in range(1, len(opts) + 1)]
            res.grid = [
                [c.get((r, o), (0, 0.0))[0] for r in range(1, len(opts) + 1)]
                for o in range(1, len(opts) + 1)
            ]
            for o, label in enumerate(opts):
                ranked = sum(res.grid[o])
                if ranked:
                    mean = sum((r + 1) * n for r, n in enumerate(res.grid[o])) / ranked
                    res.mean_ranks.append((label, round(mean, 2)))
            res.mean_ranks.sort(key=lambda x: x[1])
        elif q.kind == "number":
            res.mean = round(total / answered, 2)
        elif q.kind == "text":
            res.keywords = words.get(q.pk, [])
        out.append(res)
    return out


@dataclass
class CrossTab:
    question: Question
    by: str  # "building" | "age_band"
    columns: list[str]
    rows: list[tuple[str, int, list[float] | None]]  # (group, respondents, % per column | hidden)

    @property
    def chart(self) -> dict[str, Any]:
        shown = [r for r in self.rows if r[2] is not None]
        return {
            "type": "stacked",
            "categories": [r[0] for r in shown],
            "series": [
                {"name": col, "data": [r[2][j] for r in shown if r[2] is not None]}
                for j, col in enumerate(self.columns)
            ],
            "percent": True,
        }


def crosstab(survey: Survey, question: Question, *, by: str) -> CrossTab:
    """One question's answers by building or age band, as percentages of each group's
    answers; a group with fewer than 5 answers to the question is shown as hidden."""
    dim = "building_id_key" if by == "building" else "age_band"
    names = dict(
        Building.objects.filter(community_id=survey.community_id).values_list("pk", "name")
    )
    labels = option_labels(question, names)
    if question.kind == "matrix":
        labels = {i: str(x) for i, x in enumerate(question.options or [], start=1)}
    rows = (
        Tally.objects.filter(
            community_id=survey.community_id, survey_id=survey.pk, question_id=question.pk
        )
        .values(dim, "option")
        .annotate(n=Sum("n"))
    )
    groups: dict[Any, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        groups[r[dim]][r["option"]] += r["n"]
    keys = list(labels)
    out_rows: list[tuple[str, int, list[float] | None]] = []
    order = (
        sorted(groups, key=lambda g: names.get(g, str(g)))
        if by == "building"
        else [b for b in AGE_BAND_LABELS if b in groups]
        + [g for g in groups if g not in AGE_BAND_LABELS]
    )
    for g in order:
        counts = groups[g]
        answered = counts.get(ANSWERED, 0)
        if question.kind == "matrix":
            answered_cells = sum(v for k, v in counts.items() if k != ANSWERED)
        else:
            answered_cells = answered
        label = (
            (names.get(g, _("未知")) if g else _("未知")) if by == "building" else (g or _("未知"))
        )
        if answered < MIN_GROUP:
            out_rows.append((str(label), answered, None))
            continue
        out_rows.append(
            (str(label), answered, [_pct(counts.get(k, 0), answered_cells) for k in keys])
        )
    return CrossTab(question=question, by=by, columns=[labels[k] for k in keys], rows=out_rows)


def crosstab_questions(questions: Sequence[Question]) -> list[Question]:
    return [q for q in questions if q.kind in ("single", "rating", "matrix", "multiple")]


def trend(survey: Survey) -> list[tuple[str, float | None, int]]:
    """Mean of the first rating question across the surveys of the same series
    (oldest first): (title, mean or None when under 5 answers, answers)."""
    if not survey.series:
        return []
    siblings = list(
        Survey.objects.filter(
            community_id=survey.community_id,
            series=survey.series,
            status__in=[SurveyStatus.OPEN, SurveyStatus.CLOSED, SurveyStatus.PUBLISHED],
        ).order_by("opens_at", "pk")[:24]
    )
    firsts = {
        q.survey_id: q.pk
        for q in Question.objects.filter(
            community_id=survey.community_id, survey__in=siblings, kind="rating"
        ).order_by("survey_id", "-position")
    }
    sums = (
        Tally.objects.filter(
            community_id=survey.community_id, question_id__in=list(firsts.values()), row=0
        )
        .exclude(option=ANSWERED)
        .values("question_id", "option")
        .annotate(n=Sum("n"))
    )
    acc: dict[int, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for r in sums:
        n, total_so_far = acc[r["question_id"]]
        acc[r["question_id"]] = (n + r["n"], total_so_far + r["n"] * r["option"])
    out: list[tuple[str, float | None, int]] = []
    for s in siblings:
        n, total = acc.get(firsts.get(s.pk, 0), (0, 0))
        out.append((s.title, round(total / n, 2) if n >= MIN_GROUP else None, n))
    return out


def satisfaction_rate(*, community_id: int, survey: Survey | None = None) -> float | None:
    """For the assessment (SPEC §8): the share (%) of residents rating 4 or 5 on the
    overall question of the latest closed monthly satisfaction survey (or ``survey``);
    None when it has fewer than 5 answers."""
    if survey is None:
        survey = (
            Survey.objects.filter(
                community_id=community_id,
                kind="satisfaction",
                status__in=[SurveyStatus.CLOSED, SurveyStatus.PUBLISHED],
            )
            .order_by("-closes_at", "-pk")
            .first()
        )
    if survey is None:
        return None
    q = (
        Question.objects.filter(community_id=community_id, survey=survey, kind="rating")
        .order_by("position")
        .first()
    )
    if q is None:
        return None
    counts = dict(
        Tally.objects.filter(community_id=community_id, question=q, row=0)
        .values_list("option")
        .annotate(n=Sum("n"))
        .values_list("option", "n")
    )
    answered = counts.get(ANSWERED, 0)
    if answered < MIN_GROUP:
        return None
    return _pct(counts.get(4, 0) + counts.get(5, 0), answered)


def reference_counts(survey: Survey) -> dict[tuple[int, int, int], int]:
    """(question, row, option) → count straight from the answers (tests compare it
    with the tallies)."""
    out: dict[tuple[int, int, int], int] = {}
    qs = (
        Answer.objects.filter(community_id=survey.community_id, survey_id=survey.pk)
        .exclude(option__isnull=True)
        .values("question_id", "row", "option")
        .annotate(n=Count("id"))
    )
    for r in qs:
        out[(r["question_id"], r["row"], int(r["option"] or 0))] = r["n"]
    answered = (
        Answer.objects.filter(community_id=survey.community_id, survey_id=survey.pk)
        .values("question_id")
        .annotate(n=Count("response_id", distinct=True))
    )
    for a in answered:
        out[(a["question_id"], 0, ANSWERED)] = a["n"]
    return out


# --------------------------------------------------------------------------- export


def export_header(questions: Sequence[Question]) -> list[str]:
    head = [_("答卷编号"), _("提交日期"), _("渠道"), _("楼栋"), _("年龄段")]
    for q in questions:
        if q.kind == "multiple":
            head += [f"{q.code}: {o}" for o in q.options]
        elif q.kind == "matrix":
            head += [f"{q.code}: {r}" for r in q.rows]
        elif q.kind == "ranking":
            head += [f"{q.code}: {o}（{_('名次')}）" for o in q.options]
        else:
            head.append(f"{q.code}: {q.text}")
    return head


def export_rows(
    survey: Survey,
    questions: Sequence[Question],
    *,
    cell: Callable[[Any], Any] | None = None,
) -> Iterator[list[Any]]:
    """One row per response, multiple choice as one 0/1 column per option, matrix one
    column per row, ranking one column per option holding its rank. In an anonymous
    survey a building or age band with fewer than 5 responses is left blank.

    ``cell`` renders each value (the Excel writer passes :func:`exports.xlsx_cell`):
    a label or a 0/1 is rendered once for the whole export, not once per cell.

    Built for 100 000 responses × 4 million answers: the database joins each
    response's chosen options into one short text (``"question.row.option,…"``), so
    Python reads one row per response instead of one per answer (row objects were
    most of the time); each key is placed with one dictionary look-up in a map of
    key → (column, rendered value) made beforehand. Number, text and date answers (a
    few per response) come in a second ordered pass. Both passes are ordered by
    response and merged with the responses, so memory stays flat."""
    render: Callable[[Any], Any] = cell if cell is not None else _same
    cid = survey.community_id
    names = dict(Building.objects.filter(community_id=cid).values_list("pk", "name"))
    small_b: set[Any] = set()
    small_a: set[Any] = set()
    if survey.anonymous:
        for dim, small in (("building_id", small_b), ("age_band", small_a)):
            for r in (
                Response.objects.filter(community_id=cid, survey_id=survey.pk)
                .values(dim)
                .annotate(n=Count("id"))
            ):
                if r["n"] < MIN_GROUP:
                    small.add(r[dim])
    yield [render(h) for h in export_header(questions)]

    empty, zero, one = render(""), render(0), render(1)
    # "question.row.option" → (column, rendered value, for multiple choice (first
    # column, past the last, zeros): its unchosen options become 0 once it is answered).
    place: dict[str, tuple[int, Any, tuple[int, int, list[Any]] | None]] = {}
    free: dict[int, tuple[int, str]] = {}  # number / text / date: (column, kind)
    labelled: dict[int, int] = {}  # single, rating, building, household: column
    width = 0
    for q in questions:
        base, qid = width, q.pk
        if q.kind == "multiple":
            n = len(q.options)
            zeros = (base, base + n, [zero] * n)
            for o in range(1, n + 1):
                place[f"{qid}.0.{o}"] = (base + o - 1, one, zeros)
        elif q.kind == "matrix":
            n = len(q.rows)
            for r in range(1, n + 1):
                for o in range(1, len(q.options) + 1):
                    place[f"{qid}.{r}.{o}"] = (base + r - 1, render(o), None)
        elif q.kind == "ranking":
            n = len(q.options)
            for o in range(1, n + 1):
                for r in range(1, n + 1):
                    place[f"{qid}.{r}.{o}"] = (base + o - 1, render(r), None)
        elif q.kind in ("number", "text", "date"):
            n = 1
            free[qid] = (base, q.kind)
        else:  # the option's label
            n = 1
            labelled[qid] = base
            for o, label in option_labels(q, names).items():
                place[f"{qid}.0.{o}"] = (base, render(label), None)
        width += n

    answers = Answer.objects.filter(community_id=cid, survey_id=survey.pk).order_by()
    as_text = {"output_field": TextField()}
    chosen = iter(
        answers.filter(option__isnull=False)
        .values("response_id")
        .annotate(
            keys=StringAgg(
                Concat(
                    Cast("question_id", **as_text),
                    Value("."),
                    Cast("row", **as_text),
                    Value("."),
                    Cast("option", **as_text),
                    **as_text,
                ),
                delimiter=Value(","),
            )
        )
        .order_by("response_id")
        .values_list("response_id", "keys")
        .iterator(chunk_size=5_000)
    )
    values = iter(
        answers.filter(option__isnull=True)
        .order_by("response_id")
        .values_list("response_id", "question_id", "number", "text", "date")
        .iterator(chunk_size=5_000)
    )
    channel_labels = dict(Response._meta.get_field("channel").choices or [])
    seen: dict[Any, Any] = {}

    def once(value: Any) -> Any:
        if value not in seen:
            seen[value] = render(value)
        return seen[value]

    get = place.get
    ch = next(chosen, None)
    va = next(values, None)
    for rid, on, channel, building, band in (
        Response.objects.filter(community_id=cid, survey_id=survey.pk)
        .order_by("pk")
        .values_list("pk", "submitted_on", "channel", "building_id", "age_band")
        .iterator(chunk_size=5_000)
    ):
        row = [empty] * width
        # Answers of a response that came in after the responses were read are
        # passed over (``<``); the row of one without answers stays blank.
        while ch is not None and ch[0] < rid:
            ch = next(chosen, None)
        if ch is not None and ch[0] == rid:
            for key in ch[1].split(","):
                hit = get(key)
                if hit is not None:
                    col, value, fill = hit
                    if fill is not None and row[fill[0]] is empty:
                        row[fill[0] : fill[1]] = fill[2]
                    row[col] = value
                else:  # an option without a label (a building since removed): its value
                    qid_s, _row, opt = key.split(".")
                    if int(qid_s) in labelled:
                        row[labelled[int(qid_s)]] = render(int(opt))
            ch = next(chosen, None)
        while va is not None and va[0] < rid:
            va = next(values, None)
        while va is not None and va[0] == rid:
            f = free.get(va[1])
            if f is not None:
                col, kind = f
                row[col] = render(va[2] if kind == "number" else va[3] if kind == "text" else va[4])
            va = next(values, None)
        yield [
            render(str(rid)[:8]),
            once(on),
            once(str(channel_labels.get(channel, channel))),
            once("" if building in small_b else names.get(building, "")),
            once("" if band in small_a else band),
            *row,
        ]


def _same(value: Any) -> Any:
    return value
