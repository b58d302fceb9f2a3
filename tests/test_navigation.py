"""Every menu entry a user is shown opens for that user: no role is offered a page that
answers 404 (or fails)."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.accounts.scope import scope_of
from linli.core import nav

pytestmark = pytest.mark.django_db

ROLES = [
    "resident",
    "liaison",
    "grid_worker",
    "worker",
    "secretary",
    "street_officer",
    "department",
    "property",
    "social_org",
    "supervisor",
    "platform_admin",
]


@pytest.mark.parametrize("who", ROLES)
def test_every_menu_entry_opens(world, who: str) -> None:
    user = world.user(who)
    c = Client()
    c.force_login(user)
    # The layout shows the staff menu only to staff (base.html), the tiles to everyone.
    items = nav.items_for("resident", user)
    if scope_of(user).is_staff:
        items += nav.items_for("staff", user)
    failures = []
    for item in items:
        url = item.url()
        status = c.get(url).status_code
        if status != 200:
            failures.append((item.key, url, status))
    assert failures == []
    home = c.get("/", follow=True)
    assert home.status_code == 200
