"""Background work of the core: sealing the audit log (``manage.py seal_audit``)."""

from __future__ import annotations

from django.tasks import task

from linli.core import audit


@task()
def seal_audit_task() -> list[int]:
    return [cp.seq for cp in audit.seal_all()]
