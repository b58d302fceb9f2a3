"""Small helpers that make Django's stock form fields speak to our staff properly."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

# Django's default placeholder of an optional/initial select: dashes that read as a
# glitch and say nothing in Chinese.
_DJANGO_EMPTY = "---------"
CHOOSE = gettext_lazy("请选择…")


def tidy_choices(form: forms.BaseForm, *, fixed_when_single: tuple[str, ...] = ()) -> None:
    """Give every single-choice select the placeholder "请选择…" instead of dashes, and
    for each field named in ``fixed_when_single`` (usually ``community``) that offers
    exactly one option, preselect it and keep it out of sight: a grid worker with one
    community should not be asked which community she means.

    Call at the end of the form's ``__init__`` (or after the view set the querysets)."""
    for field in form.fields.values():
        if isinstance(field, forms.ModelChoiceField) and not isinstance(
            field, forms.ModelMultipleChoiceField
        ):
            if field.empty_label == _DJANGO_EMPTY:
                field.empty_label = CHOOSE
        elif isinstance(field, forms.ChoiceField) and not isinstance(
            field, forms.MultipleChoiceField
        ):
            choices: list[tuple[Any, Any]] = list(field.choices)  # type: ignore[arg-type]
            field.choices = [
                (value, CHOOSE if label == _DJANGO_EMPTY else label) for value, label in choices
            ]
    for name in fixed_when_single:
        single = form.fields.get(name)
        if not isinstance(single, forms.ModelChoiceField):
            continue
        options = list(single.queryset[:2]) if single.queryset is not None else []
        if len(options) == 1:
            single.initial = options[0].pk
            single.widget = forms.HiddenInput()
