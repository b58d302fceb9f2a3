"""Survey definitions as XLSForm, so designers can work in Excel (and the form opens
in ODK/Kobo tools too).

Export writes the standard sheets (``survey``, ``choices``, ``settings``): pages are
``begin_group`` with ``field-list``, a matrix is a ``table-list`` group of
``select_one`` rows sharing one scale, rating is ``range`` 1–5, ranking is ``rank``,
the pickers are ``integer`` with a ``linli-building`` / ``linli-household``
appearance. Skip logic is written as XLSForm ``relevant`` expressions (jumps become
the relevance of the questions they pass over) and, for an exact round trip, as JSON in
an extra ``linli_logic`` column, which other tools ignore.

Import checks the workbook with ``pyxform`` (the reference XLSForm converter) first,
then reads it back; a workbook without ``linli_logic`` has its ``relevant`` column
read in the simple forms exported here (``${q} = '2'``, ``selected(${q}, '2')``,
``${q} > 3``, ``${q} < 3``, ``${q} != ''``).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _

from linli.core.errors import ValidationFailed
from linli.surveys.logic import END, QuestionSpec, validate_definition

SURVEY_HEADER = [
    "type",
    "name",
    "label",
    "hint",
    "required",
    "relevant",
    "constraint",
    "parameters",
    "appearance",
    "linli_logic",
]


def _xpath(rule: Mapping[str, Any], kinds: Mapping[str, str]) -> str:
    code, op, value = rule.get("q"), rule.get("op"), rule.get("value")
    ref = f"${{{code}}}"
    multi = kinds.get(str(code)) in ("multiple", "ranking")
    if op == "answered":
        return f"{ref} != ''"
    if op == "empty":
        return f"{ref} = ''"
    if op == "in":
        vals = value if isinstance(value, list) else [value]
        if multi:
            return "(" + " or ".join(f"selected({ref}, '{v}')" for v in vals) + ")"
        return "(" + " or ".join(f"{ref} = '{v}'" for v in vals) + ")"
    if op in ("eq", "ne"):
        base = f"selected({ref}, '{value}')" if multi else f"{ref} = '{value}'"
        return base if op == "eq" else f"not({base})"
    return f"{ref} {'>' if op == 'gt' else '<'} {value}"


def _relevance(
    q: QuestionSpec, index: int, questions: Sequence[QuestionSpec], kinds: Mapping[str, str]
) -> str:
    parts: list[str] = []
    if q.condition:
        x = _xpath(q.condition, kinds)
        parts.append(x if q.condition.get("then") == "show" else f"not({x})")
    # A jump from an earlier question over this one hides it when it fires.
    position = {p.code: i for i, p in enumerate(questions)}
    for i, src in enumerate(questions[:index]):
        for jump in src.jumps:
            to = jump.get("to")
            target = len(questions) if to == END else position.get(str(to), len(questions))
            if i < index < target:
                parts.append(f"not({_xpath({**jump, 'q': src.code}, kinds)})")
    return " and ".join(parts)


def export_rows(
    *,
    title: str,
    form_id: str,
    questions: Sequence[QuestionSpec],
    pages: Sequence[Mapping[str, Any]],
) -> list[tuple[str, list[list[Any]]]]:
    """The workbook as (sheet title, rows) pairs for ``linli.core.exports.xlsx_response``."""
    kinds = {q.code: q.kind for q in questions}
    survey: list[list[Any]] = [SURVEY_HEADER]
    choices: list[list[Any]] = [["list_name", "name", "label"]]
    page_count = max((q.page for q in questions), default=1)

    def row(**kw: Any) -> list[Any]:
        return [kw.get(h, "") for h in SURVEY_HEADER]

    # One page without a title or condition needs no group (and reads back the same).
    use_groups = bool(pages) or page_count > 1
    current = 0
    for i, q in enumerate(questions):
        if use_groups and q.page != current:
            if current:
                survey.append(row(type="end_group"))
            current = q.page
            page = pages[q.page - 1] if q.page <= len(pages) else {}
            cond = page.get("condition") if page else None
            rel = ""
            if cond:
                x = _xpath(cond, kinds)
                rel = x if cond.get("then") == "show" else f"not({x})"
            survey.append(
                row(
                    type="begin_group",
                    name=f"page{q.page}",
                    label=(page or {}).get("title", ""),
                    appearance="field-list",
                    relevant=rel,
                    linli_logic=json.dumps({"page_condition": cond}, ensure_ascii=False)
                    if cond
                    else "",
                )
            )
        # Always written (with its version), so the import knows the row came from
        # Linli and takes the logic from here rather than from ``relevant``.
        logic: dict[str, Any] = {"v": 1}
        for key in ("condition", "min_choices", "max_choices", "min_value", "max_value"):
            if getattr(q, key) not in (None, [], {}):
                logic[key] = getattr(q, key)
        if q.jumps:
            logic["jumps"] = q.jumps
        if q.kind == "text":
            logic["max_length"] = q.max_length
        common = {
            "name": q.code,
            "label": q.text,
            "hint": q.help,
            "required": "yes" if q.required else "no",
            "relevant": _relevance(q, i, questions, kinds),
            "linli_logic": json.dumps(logic, ensure_ascii=False),
        }
        if q.kind in ("single", "multiple", "ranking"):
            lst = f"{q.code}_opts"
            xtype = {"single": "select_one", "multiple": "select_multiple", "ranking": "rank"}[
                q.kind
            ]
            constraint = ""
            if q.kind == "multiple":
                lo = q.min_choices or 1
                hi = q.max_choices if q.max_choices is not None else len(q.options)
                constraint = f"count-selected(.) >= {lo} and count-selected(.) <= {hi}"
            survey.append(row(type=f"{xtype} {lst}", constraint=constraint, **common))
            choices += [[lst, str(n), label] for n, label in enumerate(q.options, start=1)]
        elif q.kind == "matrix":
            lst = f"{q.code}_scale"
            survey.append(row(type="begin_group", appearance="table-list", **common))
            for n, label in enumerate(q.rows, start=1):
                survey.append(
                    row(
                        type=f"select_one {lst}",
                        name=f"{q.code}__r{n}",
                        label=label,
                        required=common["required"],
                    )
                )
            survey.append(row(type="end_group"))
            choices += [[lst, str(n), label] for n, label in enumerate(q.options, start=1)]
        elif q.kind == "rating":
            survey.append(row(type="range", parameters="start=1 end=5 step=1", **common))
        elif q.kind == "number":
            bounds = []
            if q.min_value is not None:
                bounds.append(f". >= {q.min_value}")
            if q.max_value is not None:
                bounds.append(f". <= {q.max_value}")
            survey.append(row(type="decimal", constraint=" and ".join(bounds), **common))
        elif q.kind == "text":
            survey.append(
                row(type="text", constraint=f"string-length(.) <= {q.max_length}", **common)
            )
        elif q.kind == "date":
            survey.append(row(type="date", **common))
        elif q.kind in ("building", "household"):
            survey.append(row(type="integer", appearance=f"linli-{q.kind}", **common))
    if current:
        survey.append(row(type="end_group"))
    settings = [["form_title", "form_id", "version"], [title, form_id, "1"]]
    return [("survey", survey), ("choices", choices), ("settings", settings)]


def to_bytes(sheets: Sequence[tuple[str, Sequence[Sequence[Any]]]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    assert wb.active is not None
    wb.remove(wb.active)
    for name, rows in sheets:
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- import

_RULE = re.compile(
    r"^\s*(?:(?P<neg>not)\()?\s*(?:selected\(\$\{(?P<sq>\w+)\},\s*'(?P<sv>-?\d+)'\)"
    r"|\$\{(?P<q>\w+)\}\s*(?P<op>=|!=|>|<)\s*(?P<v>'[^']*'|-?\d+))\s*\)?\s*$"
)


def _parse_relevant(text: str, where: str) -> dict[str, Any] | None:
    """The simple relevance forms into a show/skip condition; anything else refused."""
    text = (text or "").strip()
    if not text:
        return None
    m = _RULE.match(text)
    if not m:
        raise ValidationFailed(
            _("%(w)s的 relevant 表达式过于复杂，无法导入：%(x)s") % {"w": where, "x": text[:80]},
            field="file",
        )
    then = "skip" if m.group("neg") else "show"
    if m.group("sq"):
        return {"q": m.group("sq"), "op": "eq", "value": int(m.group("sv")), "then": then}
    code, sym, raw = m.group("q"), m.group("op"), m.group("v")
    if raw == "''":
        op = "answered" if sym == "!=" else "empty"
        return {"q": code, "op": op, "then": then}
    value = int(raw.strip("'")) if raw.strip("'").lstrip("-").isdigit() else None
    if value is None:
        raise ValidationFailed(_("%(w)s的条件须比较选项编号或数字。") % {"w": where}, field="file")
    op = {"=": "eq", "!=": "ne", ">": "gt", "<": "lt"}[sym]
    return {"q": code, "op": op, "value": value, "then": then}


def import_xlsform(data: bytes) -> tuple[str, list[QuestionSpec], list[dict[str, Any]]]:
    """(title, questions, pages) from an XLSForm workbook. Refuses a workbook pyxform
    rejects, types Linli does not have, and skip logic that fails the usual checks."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2json_backends import get_xlsform
    from pyxform.xls2xform import convert

    try:
        convert(data, file_type=".xlsx")
        book = get_xlsform(data, file_type=".xlsx")
    except (PyXFormError, ValueError, KeyError, OSError) as exc:
        raise ValidationFailed(
            _("XLSForm 文件有误：%(e)s") % {"e": str(exc)[:200]}, field="file"
        ) from exc
    lists: dict[str, list[str]] = {}
    for c in book.choices or []:
        lists.setdefault(str(c.get("list_name")), []).append(str(c.get("label") or c.get("name")))
    title = ""
    for s in book.settings or []:
        title = str(s.get("form_title") or "")
    questions: list[QuestionSpec] = []
    pages: list[dict[str, Any]] = []
    page = 0
    matrix: QuestionSpec | None = None
    rows = list(book.survey or [])
    for n, r in enumerate(rows, start=2):
        where = _("第%(n)s行") % {"n": n}
        xtype = str(r.get("type") or "").strip()
        parts = (
            xtype.replace("begin group", "begin_group").replace("end group", "end_group").split()
        )
        if not parts:
            continue
        head = parts[0]
        logic: dict[str, Any] = json.loads(r["linli_logic"]) if r.get("linli_logic") else {}
        appearance = str(r.get("appearance") or "")
        if head == "begin_group" and appearance != "table-list":
            page += 1
            cond = (
                logic.get("page_condition")
                if logic
                else _parse_relevant(str(r.get("relevant") or ""), where)
            )
            pages.append({"title": str(r.get("label") or ""), "condition": cond})
            continue
        if head == "end_group":
            if matrix is not None:
                questions.append(matrix)
                matrix = None
            continue
        if page == 0:
            page = 1
            pages.append({"title": "", "condition": None})
        required = str(r.get("required") or "").lower() in ("yes", "true", "true()")
        code = str(r.get("name") or "")
        label = str(r.get("label") or "")
        if logic:
            cond = logic.get("condition")
        else:
            cond = _parse_relevant(str(r.get("relevant") or ""), where)
        base: dict[str, Any] = {
            "code": code,
            "text": label,
            "page": page,
            "required": required,
            "help": str(r.get("hint") or ""),
            "condition": cond,
            "jumps": logic.get("jumps", []),
            "min_choices": logic.get("min_choices"),
            "max_choices": logic.get("max_choices"),
            "min_value": logic.get("min_value"),
            "max_value": logic.get("max_value"),
        }
        if head == "begin_group":  # table-list: a matrix
            matrix = QuestionSpec(kind="matrix", **base)
            continue
        if matrix is not None:
            if head != "select_one" or len(parts) < 2:
                raise ValidationFailed(
                    _("%(w)s：矩阵里只能是单选行。") % {"w": where}, field="file"
                )
            matrix.rows.append(label)
            matrix.options = lists.get(parts[1], [])
            continue
        kind = {
            "select_one": "single",
            "select_multiple": "multiple",
            "rank": "ranking",
            "range": "rating",
            "decimal": "number",
            "text": "text",
            "date": "date",
        }.get(head)
        if head == "integer":
            kind = {"linli-building": "building", "linli-household": "household"}.get(
                appearance, "number"
            )
        if kind is None:
            raise ValidationFailed(
                _("%(w)s的题型“%(t)s”暂不支持。") % {"w": where, "t": xtype}, field="file"
            )
        spec = QuestionSpec(kind=kind, **base)
        if kind in ("single", "multiple", "ranking"):
            spec.options = list(lists.get(parts[1] if len(parts) > 1 else "", []))
        if kind == "text":
            spec.max_length = int(logic.get("max_length", 500))
        questions.append(spec)
    if not questions:
        raise ValidationFailed(_("XLSForm 里没有题目。"), field="file")
    if len(pages) == 1 and not pages[0]["title"] and not pages[0]["condition"]:
        pages = []
    validate_definition(questions, pages)
    return title, questions, pages
