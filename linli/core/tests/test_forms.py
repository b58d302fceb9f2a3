"""Staff selects speak Chinese and do not ask a one-community user to pick a community."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms

from linli.communities.models import OrgUnit
from linli.core.forms import tidy_choices

pytestmark = pytest.mark.django_db


class _Form(forms.Form):
    community = forms.ModelChoiceField(queryset=OrgUnit.objects.none())
    kind = forms.ChoiceField(choices=[("", "---------"), ("a", "甲")], required=False)
    many = forms.ModelMultipleChoiceField(queryset=OrgUnit.objects.none(), required=False)


def test_placeholder_and_single_community(world: Any) -> None:
    form = _Form()
    form.fields["community"].queryset = OrgUnit.objects.filter(pk=world.community.pk)  # type: ignore[attr-defined]
    tidy_choices(form, fixed_when_single=("community",))
    html = form.as_div()
    assert "---------" not in html and "请选择…" in html  # the plain ChoiceField too
    assert f'type="hidden" name="community" value="{world.community.pk}"' in html

    two = _Form()
    two.fields["community"].queryset = OrgUnit.objects.filter(  # type: ignore[attr-defined]
        pk__in=[world.community.pk, world.other_community.pk]
    )
    tidy_choices(two, fixed_when_single=("community",))
    html = two.as_div()
    assert '<select name="community"' in html and "请选择…" in html and "---------" not in html


@pytest.mark.parametrize("url", ["/notices/new/", "/communities/grants/"])
def test_secretary_forms_have_no_dashes_and_no_community_question(
    client: Any, world: Any, url: str
) -> None:
    client.force_login(world.user("secretary"))
    html = client.get(url).content.decode()
    assert "---------" not in html
    assert f'type="hidden" name="community" value="{world.community.pk}"' in html
