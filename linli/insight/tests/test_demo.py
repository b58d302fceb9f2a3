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
    assert Correction.objects.filter(community=ctx.main).count() == demo.CORRECTED
    assert AuditEvent.objects.filter(action="insight.correct").count() == demo.CORRECTED
    assert verify_all().ok
    req = Correction.objects.filter(community=ctx.main).first().request  # type: ignore[union-attr]
    client.force_login(ctx.users["community_worker"])
    body = client.get(f"/requests/desk/{req.pk}/").content.decode()
    assert "智能分类建议" in body and "已记录正确类别" in body
