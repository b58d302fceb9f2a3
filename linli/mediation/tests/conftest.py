"""Fixtures for the mediation tests: a roster with a committee mediator (the grid
worker) and a case between 张三 (resident) and 李四 (neighbour)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from linli.core.notify import MemorySender
from linli.mediation import services
from linli.mediation.models import Case, Mediator
from linli.mediation.services import PartyIn


@dataclass
class MW:
    w: Any
    mediator: Mediator
    case: Case

    def user(self, key: str) -> Any:
        return self.w.user(key)


def open_case(w: Any, mediator: Mediator | None = None, **kw: Any) -> Case:
    args: dict[str, Any] = {
        "actor": w.user("worker"),
        "community": w.community,
        "kind": "leakage",
        "title": "楼上卫生间漏水",
        "facts": "2幢201卫生间漏水，渗到1幢101天花板，双方对维修费用有争议。",
        "channel": "visit",
        "parties": [
            PartyIn(role="applicant", resident_id=w.residents["resident"].pk),
            PartyIn(role="respondent", resident_id=w.residents["neighbour"].pk),
        ],
        "building": w.building,
        "mediator_ids": [mediator.pk] if mediator else [],
    }
    args.update(kw)
    return services.case_open(**args)


def record_session(mw: MW, case: Case | None = None) -> Any:
    return services.session_record(
        actor=mw.user("grid_worker"),
        case=case or mw.case,
        held_at=timezone.now() - timedelta(hours=1),
        location="社区调解室",
        attendees="张三、李四、网格员",
        notes="双方陈述漏水经过，同意先请物业检测漏点。",
    )


def save_agreement(mw: MW, case: Case | None = None, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "actor": mw.user("grid_worker"),
        "case": case or mw.case,
        "facts": "2幢201卫生间防水层老化漏水，致1幢101天花板受损。",
        "disputed_matters": "维修费用和天花板修复费用由谁承担。",
        "responsibilities": "被申请人对漏水负主要责任。",
        "terms": "被申请人负责修复防水层，并赔偿天花板修复费800元。",
        "performance_method": "一次性现金支付，物业见证修复。",
        "performance_deadline": timezone.localdate() + timedelta(days=14),
    }
    args.update(kw)
    return services.agreement_save(**args)


def sign(mw: MW, case: Case | None = None) -> Any:
    return services.agreement_sign(
        actor=mw.user("grid_worker"),
        case=case or mw.case,
        signed_on=timezone.localdate(),
        parties_signed=True,
        mediator_signed=True,
        sealed=True,
    )


@pytest.fixture
def mw(world: Any) -> MW:
    MemorySender.outbox.clear()
    m = services.mediator_add(
        actor=world.user("secretary"),
        community=world.community,
        user=world.user("grid_worker"),
        speciality="邻里纠纷",
    )
    return MW(world, m, open_case(world, m))
