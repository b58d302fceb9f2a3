"""Ledger text typed by people (claim descriptions, catalogue entries) is refused when too
long, with the field and the limit, instead of being cut silently."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from linli.core.errors import ValidationFailed
from linli.ledger import services
from linli.ledger.models import CatalogueItem, EarningClaim, EarnKind

pytestmark = pytest.mark.django_db


def test_a_too_long_claim_description_is_refused_not_cut(world: Any) -> None:
    services.rule_save(
        actor=world.user("secretary"),
        community=world.community,
        kind=EarnKind.GARBAGE_SORTING,
        amount=5,
        approver_roles=["grid_worker"],
    )
    with pytest.raises(ValidationFailed, match="说明最多200字") as e:
        services.claim_submit(
            actor=world.user("resident"),
            resident=world.residents["resident"],
            kind=EarnKind.GARBAGE_SORTING,
            service_date=timezone.localdate(),
            description="分" * 201,
        )
    assert e.value.field == "description"
    assert not EarningClaim.objects.exists()


def test_a_too_long_catalogue_name_is_refused_not_cut(world: Any) -> None:
    with pytest.raises(ValidationFailed, match="名称最多80字"):
        services.item_save(
            actor=world.user("secretary"),
            community=world.community,
            name="米" * 81,
            kind="goods",
            price_points=10,
            stock=5,
        )
    assert not CatalogueItem.objects.exists()
