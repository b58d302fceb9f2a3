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


class AuditChainHead(models.Model):
    """One hash chain per tenant ("community:12", "street:3", "global").

    Appending locks this row, so each chain is strictly ordered even with many app
    servers; separate tenants never wait on each other.
    """

    key = models.CharField(max_length=64, unique=True)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("审计链")
        verbose_name_plural = _("审计链")

    def __str__(self) -> str:
        return f"{self.key}#{self.last_seq}"


class AuditEvent(models.Model):
    """Append-only. UPDATE and DELETE are refused by database triggers (see migration
    0002), and the hash chain detects changes made by anyone who drops them."""

    chain = models.CharField(max_length=64, db_index=True)
    seq = models.BigIntegerField()
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=80, db_index=True)
    target_type = models.CharField(max_length=80, blank=True)
    target_id = models.CharField(max_length=64, blank=True, db_index=True)
    community_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    payload = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq_unique"),
            models.CheckConstraint(condition=models.Q(seq__gte=1), name="audit_seq_positive"),
        ]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.chain}#{self.seq} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise RuntimeError("Audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("Audit events are append-only")


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
