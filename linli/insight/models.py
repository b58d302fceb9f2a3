"""What insight stores: the suggestion made for a request, staff corrections (the
community's labelled history) and per-community models retrained from them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.communities.models import OrgUnit
from linli.core.models import BaseModel
from linli.requests.models import Category, ServiceRequest


class Suggestion(BaseModel):
    """The classifier's suggestion for one request, kept so triage shows what was
    suggested at the time and corrections can be compared with it."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    request = models.OneToOneField(
        ServiceRequest, on_delete=models.CASCADE, related_name="insight_suggestion"
    )
    category_code = models.CharField(_("建议类别"), max_length=40, blank=True)
    confidence = models.FloatField(_("置信度"), default=0.0)
    alternatives = models.JSONField(_("备选类别"), default=list)
    needs_human = models.BooleanField(_("需人工判断"), default=True)
    reason = models.CharField(max_length=20, blank=True)
    model_digest = models.CharField(max_length=16)

    class Meta:
        verbose_name = _("分类建议")
        verbose_name_plural = _("分类建议")
        constraints = [
            models.CheckConstraint(
                condition=Q(confidence__gte=0) & Q(confidence__lte=1),
                name="insight_suggestion_confidence_0_1",
            )
        ]


class Correction(BaseModel):
    """A staff member's verdict on a request's category: the right leaf for its text.
    One per request (a later correction replaces the earlier one)."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    request = models.OneToOneField(
        ServiceRequest, on_delete=models.CASCADE, related_name="insight_correction"
    )
    text = models.TextField(_("诉求描述"), max_length=2000)
    suggested_code = models.CharField(_("系统建议"), max_length=40, blank=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="+", verbose_name=_("正确类别")
    )
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("类别更正")
        verbose_name_plural = _("类别更正")
        indexes = [models.Index(fields=["community", "created_at"])]


class CommunityModel(BaseModel):
    """A classifier retrained for one community from its corrections. Adopted (active)
    only when it beat the model in use on held-out data; at most one active."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    data = models.BinaryField()
    digest = models.CharField(max_length=16)
    corrections = models.PositiveIntegerField(_("更正条数"))
    accuracy = models.FloatField(_("新模型准确率"))
    baseline_accuracy = models.FloatField(_("原模型准确率"))
    is_active = models.BooleanField(_("启用"), default=False)

    class Meta:
        verbose_name = _("社区分类模型")
        verbose_name_plural = _("社区分类模型")
        constraints = [
            models.UniqueConstraint(
                fields=["community"],
                condition=Q(is_active=True),
                name="insight_one_active_model_per_community",
            )
        ]
