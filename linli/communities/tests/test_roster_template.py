"""Issue 10 item 13: the roster import page offers a template workbook, lists the allowed
values per column, and does not ask a one-community user to choose the community."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from linli.communities.roster import COLUMNS, TEMPLATE_EXAMPLE

pytestmark = pytest.mark.django_db


def _client(world: Any, who: str = "secretary") -> Client:
    c = Client()
    c.force_login(world.user(who))
    return c


def test_template_download_has_the_import_columns_and_an_example_row(world: Any) -> None:
    resp = _client(world).get(reverse("communities:roster_template"))
    assert resp.status_code == 200
    assert "spreadsheetml" in resp["Content-Type"]
    ws = load_workbook(io.BytesIO(resp.content)).active
    rows = [[c if c is not None else "" for c in r] for r in ws.iter_rows(values_only=True)]
    assert rows[0] == [h for _k, h, _e in COLUMNS]
    assert rows[1] == TEMPLATE_EXAMPLE
    assert len(rows) == 2


def test_template_is_for_roster_editors_only(world: Any) -> None:
    assert _client(world, "resident").get(reverse("communities:roster_template")).status_code == 404


def test_import_page_links_the_template_lists_allowed_values_and_preselects(world: Any) -> None:
    page = _client(world).get(reverse("communities:roster_import")).content.decode()
    assert reverse("communities:roster_template") in page
    assert 'id="allowed-values"' in page
    for allowed in ("业主、租户", "户主", "独居老人", "居民代表"):
        assert allowed in page
    # One community: no "---------" / "- Select an option -" choice, the field is fixed.
    assert "---------" not in page
    assert f'type="hidden" name="community" value="{world.community.pk}"' in page
