"""The report form's category check, for the requests view: when the resident's
chosen category differs from a confident suggestion, the form comes back once with
the question (this is the step that works without JavaScript; with it, the
suggestion already appeared while typing). The answer travels in the form:
``use_category`` (switch to the suggestion) or ``category_confirmed`` (keep mine)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from linli.insight.classifier import Prediction
from linli.insight.suggest import suggest
from linli.requests import catalog
from linli.requests.models import Category

# Interrupting a resident costs more than a triage hint: ask only when the model is
# clearly sure and the chosen category is not among its alternatives. The confidence
# is calibrated (classifier.py): 0.985 asks about the same share of texts (60 % of the
# validation split) as 0.5 did on the earlier, uncalibrated scale.
ASK_CONFIDENCE = 0.985


@dataclass(frozen=True)
class CategoryCheck:
    suggested: Category
    chosen: Category | None
    prediction: Prediction


def _leaf(pk: Any) -> Category | None:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    cat = Category.objects.filter(pk=pk, is_active=True, parent__isnull=False).first()
    if cat is None or catalog.has_active_children(cat.pk):
        return None
    return cat


def chosen_category(post: Any, chosen: int | None) -> int | None:
    """The category to submit: the suggestion when the resident took it."""
    picked = _leaf(post.get("use_category"))
    return picked.pk if picked is not None else chosen


def answered(post: Any) -> bool:
    return bool(post.get("category_confirmed")) or _leaf(post.get("use_category")) is not None


def carry(post: Any) -> dict[str, str]:
    """Hidden fields that keep the answer across a later step (duplicates)."""
    out = {}
    if post.get("category_confirmed"):
        out["category_confirmed"] = "1"
    picked = _leaf(post.get("use_category"))
    if picked is not None:
        out["use_category"] = str(picked.pk)
    return out


def category_check(
    *, post: Any, chosen: int | None, text: str, community_id: int
) -> CategoryCheck | None:
    """The question to ask, or None (answered already, or nothing confident to say)."""
    if answered(post):
        return None
    pred = suggest(text, community_id=community_id)
    if pred.needs_human or pred.category is None or pred.confidence < ASK_CONFIDENCE:
        return None
    cat = catalog.active_by_code(pred.category)
    if cat is None or cat.pk == chosen:
        return None
    mine = _leaf(chosen)
    if mine is not None and mine.code in pred.alternatives:
        return None  # the resident's choice is one the model also considered
    return CategoryCheck(cat, _leaf(chosen), pred)
