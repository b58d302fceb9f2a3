"""The questionnaire itself, without the database: question definitions, skip logic
and answer checking. Pure functions, so the builder, the answer service, the XLSForm
import and the property tests all use the same rules.

Skip logic comes in three forms, all decided by *earlier* answers only:

* a question's ``condition`` shows it only when an earlier answer matches
  (``then="show"``) or skips it when one matches (``then="skip"``);
* a page's ``condition`` does the same for every question on the page;
* a question's ``jumps`` skip forward to a later question (or to the end) when its own
  answer matches.

:func:`validate_definition` refuses a rule that names a missing question, looks at a
later question, or jumps backwards (a loop). With those refused, :func:`walk` visits
questions in strictly increasing order, so every answer path reaches the end.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from linli.core.errors import ValidationFailed
from linli.core.textlimit import within

KINDS = (
    "single",
    "multiple",
    "text",
    "number",
    "date",
    "rating",
    "matrix",
    "ranking",
    "building",
    "household",
)
CHOICE_KINDS = ("single", "multiple", "ranking")
OPS = ("eq", "ne", "in", "gt", "lt", "answered", "empty")
END = "end"
RATING_MAX = 5
MAX_QUESTIONS = 200
MAX_OPTIONS = 30
MAX_ROWS = 20
MAX_SCALE = 10
MAX_TEXT = 2000
TITLE_LIMIT = 300
OPTION_LIMIT = 100
_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")

# A cleaned answer: int (single, rating, building, household), list[int] (multiple;
# ranking in rank order; matrix: the scale value per row, None when left empty),
# float (number), str (text), date.
type Value = int | float | str | date | list[int] | list[int | None]


@dataclass
class QuestionSpec:
    code: str
    kind: str
    text: str
    page: int = 1
    required: bool = True
    help: str = ""
    options: list[str] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)
    min_choices: int | None = None
    max_choices: int | None = None
    min_value: int | None = None
    max_value: int | None = None
    max_length: int = 500
    condition: dict[str, Any] | None = None
    jumps: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "kind": self.kind,
            "text": self.text,
            "page": self.page,
            "required": self.required,
            "help": self.help,
            "options": list(self.options),
            "rows": list(self.rows),
            "min_choices": self.min_choices,
            "max_choices": self.max_choices,
            "min_value": self.min_value,
            "max_value": self.max_value,
            "max_length": self.max_length,
            "condition": self.condition,
            "jumps": list(self.jumps),
        }

    @classmethod
    def from_obj(cls, obj: Any) -> QuestionSpec:
        """From a Question row or anything with the same attributes."""
        return cls(
            code=obj.code,
            kind=obj.kind,
            text=obj.text,
            page=obj.page,
            required=obj.required,
            help=obj.help,
            options=list(obj.options or []),
            rows=list(obj.rows or []),
            min_choices=obj.min_choices,
            max_choices=obj.max_choices,
            min_value=obj.min_value,
            max_value=obj.max_value,
            max_length=obj.max_length,
            condition=obj.condition or None,
            jumps=list(obj.jumps or []),
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> QuestionSpec:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in known})

    @property
    def scale_size(self) -> int:
        if self.kind == "rating":
            return RATING_MAX
        return len(self.options)


def _bad(message: str, **details: Any) -> ValidationFailed:
    return ValidationFailed(message, field="questions", details=details)


# --------------------------------------------------------------------------- definitions


def _check_rule(
    rule: Any,
    *,
    where: str,
    by_code: Mapping[str, QuestionSpec],
    position: Mapping[str, int],
    before: int,
    needs_then: bool,
) -> None:
    """A condition (or jump test) must name an existing question strictly before
    ``before`` and compare it in a way that fits its type."""
    if not isinstance(rule, Mapping):
        raise _bad(_("%(w)s的跳题条件格式不正确。") % {"w": where})
    code = rule.get("q")
    if code not in by_code:
        raise _bad(_("%(w)s的条件引用了不存在的题目“%(q)s”。") % {"w": where, "q": code})
    if position[str(code)] >= before:
        raise _bad(
            _("%(w)s的条件引用了后面的题目“%(q)s”：条件只能依据前面题目的答案。")
            % {"w": where, "q": code}
        )
    op = rule.get("op")
    if op not in OPS:
        raise _bad(_("%(w)s的条件比较方式“%(op)s”无效。") % {"w": where, "op": op})
    source = by_code[str(code)]
    value = rule.get("value")
    if op in ("eq", "ne", "gt", "lt") and not isinstance(value, int | float):
        raise _bad(_("%(w)s的条件需要一个数值。") % {"w": where})
    if op == "in" and not (
        isinstance(value, list) and value and all(isinstance(v, int) for v in value)
    ):
        raise _bad(_("%(w)s的条件需要至少一个选项。") % {"w": where})
    if op in ("eq", "ne", "in") and source.kind in (*CHOICE_KINDS, "rating"):
        wanted = value if isinstance(value, list) else [value]
        size = source.scale_size
        if any(not isinstance(v, int | float) or not 1 <= v <= size for v in wanted):
            raise _bad(_("%(w)s的条件引用了题目“%(q)s”不存在的选项。") % {"w": where, "q": code})
    if op in ("gt", "lt") and source.kind not in ("number", "rating"):
        raise _bad(_("%(w)s：大于/小于只能用于数字或评分题。") % {"w": where})
    if source.kind in ("matrix", "text", "date", "household") and op not in ("answered", "empty"):
        raise _bad(_("%(w)s：这类题目只能按“是否作答”设置条件。") % {"w": where})
    if needs_then and rule.get("then") not in ("show", "skip"):
        raise _bad(_("%(w)s的条件须说明是“显示”还是“跳过”。") % {"w": where})


def validate_definition(
    questions: Sequence[QuestionSpec],
    pages: Sequence[Mapping[str, Any]] = (),
    *,
    anonymous: bool = False,
) -> None:
    """Refuse a questionnaire that cannot be answered as written (see the module
    docstring). Raises ValidationFailed naming the first problem."""
    if len(questions) > MAX_QUESTIONS:
        raise _bad(_("一份问卷最多%(n)s道题。") % {"n": MAX_QUESTIONS})
    by_code: dict[str, QuestionSpec] = {}
    position: dict[str, int] = {}
    last_page = 1
    for i, q in enumerate(questions):
        label = _("第%(n)s题") % {"n": i + 1}
        if not isinstance(q.code, str) or not _CODE.match(q.code):
            raise _bad(
                _("%(w)s的题号须以字母开头，只含字母、数字和下划线（最多40位）。") % {"w": label}
            )
        if q.code in by_code or q.code == END:
            raise _bad(_("题号“%(q)s”重复或不可用。") % {"q": q.code})
        if q.kind not in KINDS:
            raise _bad(_("%(w)s的题型“%(k)s”无效。") % {"w": label, "k": q.kind})
        text = (q.text or "").strip()
        if not text:
            raise _bad(_("%(w)s的题目不能为空。") % {"w": label})
        within(text, field="text", limit=TITLE_LIMIT, label=_("题目"))
        within(q.help, field="help", limit=TITLE_LIMIT, label=_("提示"))
        if q.page < last_page or q.page > last_page + 1:
            raise _bad(_("%(w)s的页码须与前一题相同或加一。") % {"w": label})
        if i == 0 and q.page != 1:
            raise _bad(_("第一题须在第1页。"))
        last_page = q.page
        if q.kind in (*CHOICE_KINDS, "matrix"):
            if not (2 <= len(q.options) <= (MAX_SCALE if q.kind == "matrix" else MAX_OPTIONS)):
                raise _bad(_("%(w)s须有2–%(m)s个选项。") % {"w": label, "m": MAX_OPTIONS})
            for o in q.options:
                if not isinstance(o, str) or not o.strip():
                    raise _bad(_("%(w)s有空白选项。") % {"w": label})
                within(o, field="options", limit=OPTION_LIMIT, label=_("选项"))
            if len({o.strip() for o in q.options}) != len(q.options):
                raise _bad(_("%(w)s有重复的选项。") % {"w": label})
        elif q.options:
            raise _bad(_("%(w)s这类题目没有选项。") % {"w": label})
        if q.kind == "matrix":
            if not 1 <= len(q.rows) <= MAX_ROWS:
                raise _bad(_("%(w)s矩阵须有1–%(m)s行。") % {"w": label, "m": MAX_ROWS})
            for r in q.rows:
                if not isinstance(r, str) or not r.strip():
                    raise _bad(_("%(w)s有空白的矩阵行。") % {"w": label})
                within(r, field="rows", limit=OPTION_LIMIT, label=_("矩阵行"))
        elif q.rows:
            raise _bad(_("%(w)s只有矩阵题才有行。") % {"w": label})
        if q.kind == "multiple":
            lo = q.min_choices or 0
            hi = q.max_choices if q.max_choices is not None else len(q.options)
            if not 0 <= lo <= hi <= len(q.options) or hi < 1:
                raise _bad(_("%(w)s的最少/最多选择数不合理。") % {"w": label})
        if q.kind == "number" and (
            q.min_value is not None and q.max_value is not None and q.min_value > q.max_value
        ):
            raise _bad(_("%(w)s的最小值大于最大值。") % {"w": label})
        if q.kind == "text" and not 1 <= q.max_length <= MAX_TEXT:
            raise _bad(_("%(w)s的字数上限须在1–%(m)s之间。") % {"w": label, "m": MAX_TEXT})
        if q.kind == "household" and anonymous:
            raise _bad(
                _("%(w)s：匿名问卷不能包含“选择房屋”题，否则答卷能对应到具体住户。") % {"w": label}
            )
        by_code[q.code] = q
        position[q.code] = i
    for i, q in enumerate(questions):
        label = _("第%(n)s题") % {"n": i + 1}
        if q.condition:
            _check_rule(
                q.condition,
                where=label,
                by_code=by_code,
                position=position,
                before=i,
                needs_then=True,
            )
        if not isinstance(q.jumps, list):
            raise _bad(_("%(w)s的跳转规则格式不正确。") % {"w": label})
        for jump in q.jumps:
            if not isinstance(jump, Mapping):
                raise _bad(_("%(w)s的跳转规则格式不正确。") % {"w": label})
            # A jump tests this question's own answer.
            _check_rule(
                {**jump, "q": q.code},
                where=label,
                by_code=by_code,
                position=position,
                before=i + 1,
                needs_then=False,
            )
            to = jump.get("to")
            if to == END:
                continue
            if to not in position:
                raise _bad(
                    _("%(w)s的跳转目标“%(t)s”不存在。") % {"w": label, "t": to},
                    target=to,
                )
            if position[str(to)] <= i:
                raise _bad(
                    _(
                        "%(w)s的跳转目标“%(t)s”不在本题之后：向前跳转会形成循环，请改为跳到后面的题目。"
                    )
                    % {"w": label, "t": to},
                    target=to,
                )
    page_count = questions[-1].page if questions else 0
    if len(pages) > max(page_count, 1):
        raise _bad(_("分页设置比题目所在的页数多。"))
    first_on_page: dict[int, int] = {}
    for i, q in enumerate(questions):
        first_on_page.setdefault(q.page, i)
    for n, page in enumerate(pages, start=1):
        cond = page.get("condition") if isinstance(page, Mapping) else None
        within(
            str(page.get("title", "")) if isinstance(page, Mapping) else "", field="pages", limit=60
        )
        if cond:
            if n == 1:
                raise _bad(_("第1页不能设置条件。"))
            _check_rule(
                cond,
                where=_("第%(n)s页") % {"n": n},
                by_code=by_code,
                position=position,
                before=first_on_page.get(n, len(questions)),
                needs_then=True,
            )


# --------------------------------------------------------------------------- skip logic


def matches(rule: Mapping[str, Any], answers: Mapping[str, Value]) -> bool:
    """Does the answer ``rule["q"]`` meet the rule? A question not answered (or not
    shown) matches only "empty"."""
    op = rule.get("op")
    got = answers.get(str(rule.get("q")))
    if op == "empty":
        return got is None or got == [] or got == ""
    if got is None or got == [] or got == "":
        return False
    if op == "answered":
        return True
    value = rule.get("value")
    if isinstance(got, list):  # multiple choice / ranking: any chosen option
        chosen = {v for v in got if v is not None}
        if op == "eq":
            return value in chosen
        if op == "ne":
            return value not in chosen
        if op == "in":
            return bool(chosen & set(value or []))
        return False
    if op == "eq":
        return bool(got == value)
    if op == "ne":
        return bool(got != value)
    if op == "in":
        return got in (value or [])
    if isinstance(got, int | float) and isinstance(value, int | float):
        return got > value if op == "gt" else got < value if op == "lt" else False
    return False


def _applies(rule: Mapping[str, Any] | None, answers: Mapping[str, Value]) -> bool:
    """Whether a show/skip rule lets its question or page be shown."""
    if not rule:
        return True
    hit = matches(rule, answers)
    return hit if rule.get("then") == "show" else not hit


def walk(
    questions: Sequence[QuestionSpec],
    pages: Sequence[Mapping[str, Any]],
    answers: Mapping[str, Value],
) -> list[QuestionSpec]:
    """The questions shown to someone who gave ``answers``, in order. Only answers of
    questions already shown count (a hidden question's stale answer is ignored)."""
    shown: list[QuestionSpec] = []
    seen: dict[str, Value] = {}
    index = {q.code: i for i, q in enumerate(questions)}
    skip_until = -1
    for i, q in enumerate(questions):
        if i < skip_until:
            continue
        page = pages[q.page - 1] if 0 < q.page <= len(pages) else None
        page_rule = page.get("condition") if isinstance(page, Mapping) else None
        if not _applies(page_rule, seen) or not _applies(q.condition, seen):
            continue
        shown.append(q)
        if q.code in answers:
            seen[q.code] = answers[q.code]
        for jump in q.jumps:
            if matches({**jump, "q": q.code}, seen):
                to = jump.get("to")
                skip_until = len(questions) if to == END else index.get(str(to), len(questions))
                break
    return shown


def pages_shown(
    questions: Sequence[QuestionSpec],
    pages: Sequence[Mapping[str, Any]],
    answers: Mapping[str, Value],
) -> list[int]:
    """Page numbers with at least one question shown, in order."""
    return sorted({q.page for q in walk(questions, pages, answers)})


# --------------------------------------------------------------------------- answers


@dataclass(frozen=True)
class Allowed:
    """What picker answers may name: ids of the community's buildings and households."""

    building_ids: frozenset[int] = frozenset()
    household_ids: frozenset[int] = frozenset()


def _int(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and re.fullmatch(r"\s*-?\d{1,9}\s*", raw):
        return int(raw)
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    return None


def _empty(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, list | tuple):
        return all(_empty(v) for v in raw)
    if isinstance(raw, Mapping):
        return all(_empty(v) for v in raw.values())
    return False


def _answer_error(q: QuestionSpec, message: str) -> ValidationFailed:
    return ValidationFailed(_("“%(q)s”：%(m)s") % {"q": q.text, "m": message}, field=f"q_{q.code}")


def clean_value(q: QuestionSpec, raw: Any, allowed: Allowed) -> Value:
    """One answer, typed and checked. Precondition: ``raw`` is not empty."""
    k = q.kind
    if k in ("single", "rating", "building", "household"):
        v = _int(raw[0] if isinstance(raw, list | tuple) and len(raw) == 1 else raw)
        if k == "single" and (v is None or not 1 <= v <= len(q.options)):
            raise _answer_error(q, _("请从给出的选项中选择一项。"))
        if k == "rating" and (v is None or not 1 <= v <= RATING_MAX):
            raise _answer_error(q, _("评分须为1–5分。"))
        if k == "building" and (v is None or v not in allowed.building_ids):
            raise _answer_error(q, _("请选择本社区的楼栋。"))
        if k == "household" and (v is None or v not in allowed.household_ids):
            raise _answer_error(q, _("请选择本社区的房屋。"))
        assert v is not None
        return v
    if k == "multiple":
        items = raw if isinstance(raw, list | tuple) else [raw]
        picked = [_int(x) for x in items if not _empty(x)]
        if any(v is None or not 1 <= v <= len(q.options) for v in picked):
            raise _answer_error(q, _("请从给出的选项中选择。"))
        chosen = sorted({v for v in picked if v is not None})
        lo = q.min_choices or 0
        hi = q.max_choices if q.max_choices is not None else len(q.options)
        if len(chosen) < max(lo, 1) or len(chosen) > hi:
            raise _answer_error(q, _("请选择%(lo)s–%(hi)s项。") % {"lo": max(lo, 1), "hi": hi})
        return chosen
    if k == "ranking":
        # Raw: option value → rank (a mapping), or the options in rank order (a list).
        if isinstance(raw, Mapping):
            ranks: dict[int, int] = {}
            for opt, rank in raw.items():
                o, r = _int(opt), _int(rank)
                if o is None or r is None or not 1 <= o <= len(q.options):
                    raise _answer_error(q, _("排序的选项或名次无效。"))
                ranks[o] = r
            if sorted(ranks.values()) != list(range(1, len(ranks) + 1)):
                raise _answer_error(q, _("名次须从1开始且不重复。"))
            return [o for o, _r in sorted(ranks.items(), key=lambda kv: kv[1])]
        order = [_int(x) for x in (raw if isinstance(raw, list | tuple) else [raw])]
        if any(o is None or not 1 <= o <= len(q.options) for o in order) or len(set(order)) != len(
            order
        ):
            raise _answer_error(q, _("排序的选项无效或重复。"))
        return [o for o in order if o is not None]
    if k == "matrix":
        cells: list[int | None] = [None] * len(q.rows)
        cells_raw: Iterable[tuple[Any, Any]] = (
            raw.items() if isinstance(raw, Mapping) else enumerate(raw, start=1)
        )
        for row_raw, val_raw in cells_raw:
            r = _int(row_raw)
            if r is None or not 1 <= r <= len(q.rows):
                raise _answer_error(q, _("矩阵的行不存在。"))
            if _empty(val_raw):
                continue
            v = _int(val_raw)
            if v is None or not 1 <= v <= len(q.options):
                raise _answer_error(
                    q,
                    _("“%(row)s”的答案超出量表范围（1–%(n)s）。")
                    % {"row": q.rows[r - 1], "n": len(q.options)},
                )
            cells[r - 1] = v
        if q.required and any(c is None for c in cells):
            raise _answer_error(q, _("矩阵的每一行都需要作答。"))
        return cells
    if k == "number":
        text = str(raw).strip()
        try:
            num = float(text)
        except ValueError:
            raise _answer_error(q, _("请填写数字。")) from None
        if num != num or num in (float("inf"), float("-inf")) or abs(num) > 1e12:
            raise _answer_error(q, _("请填写数字。"))
        if q.min_value is not None and num < q.min_value:
            raise _answer_error(q, _("不能小于%(n)s。") % {"n": q.min_value})
        if q.max_value is not None and num > q.max_value:
            raise _answer_error(q, _("不能大于%(n)s。") % {"n": q.max_value})
        return num
    if k == "date":
        if isinstance(raw, date):
            return raw
        try:
            return date.fromisoformat(str(raw).strip())
        except ValueError:
            raise _answer_error(q, _("请按“年-月-日”填写日期。")) from None
    if k == "text":
        return within(str(raw), field=f"q_{q.code}", limit=q.max_length, label=q.text[:20])
    raise _answer_error(q, _("未知题型。"))


def clean_answers(
    questions: Sequence[QuestionSpec],
    pages: Sequence[Mapping[str, Any]],
    raw: Mapping[str, Any],
    allowed: Allowed = Allowed(),
) -> dict[str, Value]:
    """Typed answers for the questions this respondent is shown. A required question
    shown but left empty is refused; answers to questions not shown are dropped.
    Raises ValidationFailed naming the question."""
    unknown = set(raw) - {q.code for q in questions}
    if unknown:
        raise ValidationFailed(
            _("答卷包含问卷中没有的题目：%(q)s") % {"q": "、".join(sorted(unknown)[:5])},
            field="answers",
        )
    cleaned: dict[str, Value] = {}
    # Clean in order, deciding what is shown from the answers cleaned so far.
    for q in walk(questions, pages, _pre_clean(questions, raw, allowed)):
        value = raw.get(q.code)
        if _empty(value):
            if q.required:
                raise _answer_error(q, _("此题为必答题，请作答。"))
            continue
        cleaned[q.code] = clean_value(q, value, allowed)
    return cleaned


def _pre_clean(
    questions: Sequence[QuestionSpec], raw: Mapping[str, Any], allowed: Allowed
) -> dict[str, Value]:
    """Best-effort typed answers for deciding the path (bad values count as empty;
    they are refused properly when their question is checked)."""
    out: dict[str, Value] = {}
    for q in questions:
        value = raw.get(q.code)
        if _empty(value):
            continue
        try:
            out[q.code] = clean_value(q, value, allowed)
        except ValidationFailed:
            continue
    return out


def parse_rule_text(text: str) -> dict[str, Any] | None:
    """A rule typed in the builder: ``q3 = 2``, ``q3 != 2``, ``q3 in 1,2``, ``q5 > 3``,
    ``q5 < 3``, ``q2 answered``, ``q2 empty`` → the stored form (without "then")."""
    text = (text or "").strip()
    if not text:
        return None
    m = re.fullmatch(r"([A-Za-z][A-Za-z0-9_]{0,39})\s*(=|!=|>|<|in|answered|empty)\s*(.*)", text)
    if not m:
        raise ValidationFailed(
            _("条件写法：题号 = 选项号，例如 q3 = 2、q3 in 1,2、q5 > 3、q2 answered。"),
            field="condition",
        )
    code, sym, rest = m.group(1), m.group(2), m.group(3).strip()
    op = {"=": "eq", "!=": "ne", ">": "gt", "<": "lt"}.get(sym, sym)
    rule: dict[str, Any] = {"q": code, "op": op}
    if op in ("eq", "ne", "gt", "lt"):
        v = _int(rest)
        if v is None:
            raise ValidationFailed(_("条件需要一个整数，例如 q3 = 2。"), field="condition")
        rule["value"] = v
    elif op == "in":
        values = [_int(x) for x in re.split(r"[,，\s]+", rest) if x]
        if not values or any(v is None for v in values):
            raise ValidationFailed(_("条件写法：q3 in 1,2。"), field="condition")
        rule["value"] = values
    return rule


def rule_text(rule: Mapping[str, Any] | None) -> str:
    """The builder's text form of a rule (inverse of :func:`parse_rule_text`)."""
    if not rule:
        return ""
    op = rule.get("op")
    sym = {"eq": "=", "ne": "!=", "gt": ">", "lt": "<"}.get(str(op), str(op))
    value = rule.get("value")
    if op == "in":
        return f"{rule.get('q')} in {','.join(str(v) for v in value or [])}"
    if op in ("answered", "empty"):
        return f"{rule.get('q')} {op}"
    return f"{rule.get('q')} {sym} {value}"


def all_codes(questions: Iterable[QuestionSpec]) -> list[str]:
    return [q.code for q in questions]
