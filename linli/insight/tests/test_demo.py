"""The demo shows insight in use: suggestions on the newest open requests of 阳光社区
and a few corrections by the community worker (audited)."""

from __future__ import annotations

from typing import Any

import pytest

from linli.core import demo as core_demo
from linli.core.audit import verify_all
from linli.core.models import AuditEvent
from linli.insight import demo
from linli.insight.models import Correction, Suggestion
from linli.requests import demo as requests_demo

pytestmark = pytest.mark.django_db


def test_demo_seed(client: Any) -> None:
    ctx = core_demo.load(households=300)
    requests_demo.seed(ctx)
    demo.seed(ctx)
    assert Suggestion.objects.filter(community=ctx.main).count() == demo.SUGGESTED
    # the four confirmations and the long report filed under the wrong leaf, moved (改类)
    assert Correction.objects.filter(community=ctx.main).count() == demo.CORRECTED + 1
    assert AuditEvent.objects.filter(action="insight.correct").count() == demo.CORRECTED + 1
    moved = AuditEvent.objects.get(action="requests.recategorise")
    assert moved.payload["from"] == "ho-service" and moved.payload["to"] == "fac-water"
    assert verify_all().ok
    req = Correction.objects.filter(community=ctx.main).first().request  # type: ignore[union-attr]
    client.force_login(ctx.users["community_worker"])
    body = client.get(f"/requests/desk/{req.pk}/").content.decode()
    assert "智能分类建议" in body and "已记录正确类别" in body
    # the staff list shows the long report's point, not its opening
    body = client.get("/requests/desk/").content.decode()
    assert "在里面关了二十多分钟才出来" in body and "在这里住了快二十年" not in body
