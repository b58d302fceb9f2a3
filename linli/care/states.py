"""The alert state machine, declared once with :mod:`linli.core.transitions`.

待响应 (open) → 已响应 (acknowledged) → 已处置 (resolved, with an outcome). An alert
raised while the household is away starts 外出暂挂 (held): shown, not dropped; the
care team may release it (→ open, the ladder starts) or resolve it. ``escalate`` is
the sweep moving an unacknowledged alert one rung down the ladder (a self-loop on
open); ``recover`` closes a silent-device task when the device reports again.
Services change the status only through ``ALERT.apply``; pages take their buttons
from ``ALERT.can``; the permission-matrix test iterates over this table.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _l

from linli.care.ladder import on_ladder
from linli.care.models import Alert, AlertStatus
from linli.care.permissions import sees_care
from linli.core.transitions import Machine, is_system, predicate, transition
from linli.core.types import Actor

S = AlertStatus


@predicate
def on_the_ladder(actor: Actor, alert: Alert) -> bool:
    return on_ladder(actor, alert)


@predicate
def sees_alert(actor: Actor, alert: Alert) -> bool:
    return on_ladder(actor, alert) or bool(sees_care(actor, alert))


ALERT: Machine[Alert] = Machine(
    name="care.alert",
    model=Alert,
    transitions=[
        transition(
            "acknowledge",
            _l("我已收到，马上处理"),
            [S.OPEN],
            S.ACKNOWLEDGED,
            who=on_the_ladder,
            forbidden=_l("您不在该报警的响应名单上，不能确认响应。"),
        ),
        transition(
            "resolve",
            _l("处置完毕"),
            [S.OPEN, S.ACKNOWLEDGED, S.HELD],
            S.RESOLVED,
            who=on_the_ladder,
            forbidden=_l("您不在该报警的响应名单上，不能处置。"),
        ),
        transition(
            "release",
            _l("解除暂挂，立即处理"),
            [S.HELD],
            S.OPEN,
            who=on_the_ladder,
            forbidden=_l("您不在该报警的响应名单上。"),
        ),
        transition("escalate", _l("逐级上报"), [S.OPEN], S.OPEN, who=is_system),
        transition("recover", _l("设备恢复"), [S.OPEN, S.ACKNOWLEDGED], S.RESOLVED, who=is_system),
    ],
    visible=sees_alert,
    lock_queryset=lambda: Alert.objects.select_related(
        "subject", "household__building__grid", "community"
    ),
    state_label=lambda a: str(a.get_status_display()),
)

ALERT.add_perms("care")

__all__ = ["ALERT"]
