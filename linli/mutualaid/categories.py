"""Need/offer categories of 邻里互助 and the volunteer skills each one calls for.

Kept apart from ``models.py`` so other apps (resource providers) can import the codes
without importing this app's models."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class NeedCategory(models.TextChoices):
    ESCORT = "escort", _("陪诊陪护")
    ERRAND = "errand", _("代买代办")
    PLUMBING = "plumbing", _("修水管水电")
    REPAIR = "repair", _("家电维修")
    HOMEWORK = "homework", _("辅导作业")
    PHONE_HELP = "phone_help", _("手机电脑")
    HAIRCUT = "haircut", _("理发")
    LEGAL = "legal", _("法律咨询")
    COMPANION = "companion", _("聊天陪伴")
    MEALS = "meals", _("做饭送餐")
    BORROW_TOOL = "borrow_tool", _("借用工具")
    VENUE = "venue", _("借用场地")
    OTHER = "other", _("其他")


# NeedCategory -> volunteers.SkillCategory codes that can answer it. A volunteer with
# any of these skills is a category match; an empty tuple means no skill is required
# (anyone willing may help, e.g. 代买), which ranks lower than a skill match.
SKILLS_FOR: dict[str, tuple[str, ...]] = {
    NeedCategory.ESCORT: ("elderly_care", "medicine"),
    NeedCategory.ERRAND: (),
    NeedCategory.PLUMBING: ("plumbing",),
    NeedCategory.REPAIR: ("repair", "plumbing"),
    NeedCategory.HOMEWORK: ("teaching",),
    NeedCategory.PHONE_HELP: ("it",),
    NeedCategory.HAIRCUT: ("haircut",),
    NeedCategory.LEGAL: ("law",),
    NeedCategory.COMPANION: ("elderly_care", "psychology"),
    NeedCategory.MEALS: ("cooking",),
    NeedCategory.BORROW_TOOL: (),
    NeedCategory.VENUE: (),
    NeedCategory.OTHER: (),
}


def skills_for(category: str) -> tuple[str, ...]:
    return SKILLS_FOR.get(category, ())
