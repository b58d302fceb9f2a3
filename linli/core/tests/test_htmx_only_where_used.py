"""htmx (52 KB) is loaded only by the pages that use it."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

HTMX = "vendor/htmx-"


def test_plain_pages_do_not_load_htmx(client: Any, world: Any) -> None:
    assert HTMX not in client.get("/accounts/login/").content.decode()
    client.force_login(world.user("resident"))
    assert HTMX not in client.get("/me/").content.decode()
    client.force_login(world.user("secretary"))
    assert HTMX not in client.get("/workbench/").content.decode()


def test_the_page_with_hx_attributes_loads_htmx(client: Any, world: Any) -> None:
    client.force_login(world.user("secretary"))
    url = reverse("communities:resident_detail", args=[world.residents["resident"].pk])
    html = client.get(url).content.decode()
    assert "hx-post=" in html
    assert html.count(HTMX) == 1 and html.index(HTMX) < html.index("</head>")
