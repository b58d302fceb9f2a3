"""Shared base model, the tamper-evident audit chain and the working-day calendar."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class AuditEvent(models.Model):
    """Append-only: UPDATE and DELETE are refused by database triggers (migrations
    0002/0004). ``hash`` is the SHA-256 of the event's own content; signed checkpoints
    (:class:`AuditCheckpoint`) seal ranges of events so changes by anyone who drops
    the triggers are detected (see :mod:`linli.core.audit`)."""

    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=80, db_index=True)
    target_type = models.CharField(max_length=80, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    community_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    payload = models.JSONField(default=dict)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise RuntimeError("Audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("Audit events are append-only")


class AuditCheckpoint(models.Model):
    """A signed seal over the audit events with ``after_id < id <= last_id``: the Merkle
    root of their hashes, their ids with hash prefixes (zlib), the previous checkpoint's
    hash and an HMAC made with a key kept outside the database. Append-only too."""

    seq = models.BigIntegerField(unique=True)
    after_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    count = models.IntegerField()
    merkle_root = models.CharField(max_length=64)
    leaves = models.BinaryField()
    leaves_digest = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    signature = models.CharField(max_length=64)
    key_id = models.CharField(max_length=16)
    sealed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("审计检查点")
        verbose_name_plural = _("审计检查点")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(seq__gte=1)
                & models.Q(last_id__gt=models.F("after_id"))
                & models.Q(count__gte=1),
                name="audit_checkpoint_sane",
            ),
            models.UniqueConstraint(fields=["after_id"], name="audit_checkpoint_after_unique"),
        ]

    def __str__(self) -> str:
        return f"checkpoint #{self.seq} ({self.after_id}, {self.last_id}]"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise RuntimeError("Audit checkpoints are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("Audit checkpoints are append-only")


class CalendarDay(models.Model):
    """Exceptions to the Monday–Friday week: public holidays, and the weekend days that
    are worked instead (调休上班日), as the State Council publishes each year."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("法定节假日（休息）")
        WORKDAY = "workday", _("调休上班日")

    date = models.DateField(unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=40, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("工作日历例外")
        verbose_name_plural = _("工作日历例外")

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"


class DemoSeed(models.Model):
    """Which apps have loaded their demo data, so ``seed_demo`` can run again safely and
    an app added later still gets its demo data on an existing database."""

    app = models.CharField(max_length=40, unique=True)
    seeded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.app
