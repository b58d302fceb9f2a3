"""The notice state machine, declared once with :mod:`linli.core.transitions`.

草稿 (draft) → 已发布 (published) → 已撤回 (withdrawn). A notice published with a future
``publish_at`` is "scheduled": its state is already published, it is simply not visible
to residents (nor pushed by SMS/WeChat) before its time. Publishing and withdrawing are
for the community's workers and secretary; withdrawing needs a reason.

Services change the status only through ``NOTICE.apply``; pages take their buttons from
``NOTICE.can``; the permission-matrix tests iterate over the table.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _l

from linli.core.transitions import Machine, predicate, transition
from linli.core.types import Actor
from linli.notices.models import Notice
from linli.notices.permissions import can_manage_notice, can_view_notice

St = Notice.Status


@predicate
def sees_notice(actor: Actor, notice: Notice) -> bool:
    return bool(can_view_notice(actor, notice))


@predicate
def publisher(actor: Actor, notice: Notice) -> bool:
    return bool(can_manage_notice(actor, notice))


NOTICE: Machine[Notice] = Machine(
    name="notices",
    model=Notice,
    transitions=[
        transition(
            "publish",
            _l("发布"),
            [St.DRAFT],
            St.PUBLISHED,
            who=publisher,
            forbidden=_l("只有本社区的社区工作者或书记可以发布公告。"),
        ),
        transition(
            "withdraw",
            _l("撤回公告"),
            [St.PUBLISHED],
            St.WITHDRAWN,
            who=publisher,
            reason_required=True,
        ),
    ],
    visible=sees_notice,
    lock_queryset=lambda: Notice.objects.select_related("community"),
    state_label=lambda n: str(n.get_status_display()),
)

__all__ = ["NOTICE"]
