"""A transactional test that writes audit events must clean up without tripping the
append-only triggers (see the root conftest), and the triggers guard the next test."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction

from linli.core import audit
from linli.core.models import AuditEvent


@pytest.mark.django_db(transaction=True)
def test_transactional_test_writes_audit_events() -> None:
    with transaction.atomic():
        audit.record(actor=None, action="t.write", community_id=5)
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_next_transactional_test_starts_empty_and_guarded() -> None:
    assert AuditEvent.objects.count() == 0
    with transaction.atomic():
        audit.record(actor=None, action="t.write", community_id=5)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.update(action="forged")


@pytest.mark.django_db
def test_plain_test_is_guarded_too() -> None:
    with transaction.atomic():
        audit.record(actor=None, action="t.write", community_id=5)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.all().delete()
