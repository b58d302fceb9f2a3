"""Type aliases shared by services, selectors and predicates.

``Actor`` is who performs a write: a user, an anonymous visitor (Open311, public
forms) or ``None`` for the system (sweeps, tasks). ``Viewer`` is who reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from linli.accounts.models import User

type Actor = User | AnonymousUser | None
type Viewer = User | AnonymousUser

__all__ = ["Actor", "Viewer"]
