"""The community's mediator roster (人民调解员名册): staff and committee members, and
volunteers from the skills pool (社区能人库) who agreed to mediate."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from linli.accounts.models import Membership, Role
from linli.communities.models import OrgUnit
from linli.core import ratelimit
from linli.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import governed_write
from linli.mediation.models import Mediator
from linli.mediation.permissions import can_manage_roster
from linli.mediation.services._common import ROSTER_LIMIT


def mediator_add(
    *,
    actor: Actor,
    community: OrgUnit,
    user: Any = None,
    volunteer: Any = None,
    speciality: str = "",
) -> Mediator:
    """Put a staff member (``user``, holding a role in the community) or a volunteer
    (``volunteer``, a profile of the community whose resident has a login) on the
    roster. Someone already on it is refused."""
    if not can_manage_roster(actor, community):
        raise PermissionDenied(_("只有社区工作者、书记或街道干部可以管理调解员名册。"))
    speciality = within(speciality, field="speciality", limit=100, label=_("擅长"))
    if (user is None) == (volunteer is None):
        raise ValidationFailed(_("请选择一名工作人员或一名志愿者。"), field="user")
    if volunteer is not None:
        if volunteer.community_id != community.pk or not volunteer.is_active:
            raise ValidationFailed(_("该志愿者不属于本社区。"), field="volunteer")
        resident = volunteer.resident
        if resident.user_id is None:
            raise ValidationFailed(
                _("该志愿者还没有开通账号，请先为其发放激活码。"), field="volunteer"
            )
        user_id, name, source = resident.user_id, resident.name, Mediator.Source.VOLUNTEER
    else:
        # Staff of the community (or of its street) in any non-resident role.
        holds_role = (
            Membership.objects.active()
            .filter(user_id=user.pk)
            .filter(Q(unit__path__startswith=community.path) | Q(unit_id=community.parent_id))
            .exclude(role=Role.RESIDENT)
            .exists()
        )
        if not holds_role:
            raise ValidationFailed(_("该工作人员不在本社区任职。"), field="user")
        user_id, name = user.pk, str(getattr(user, "display_name", "") or user.username)
        source = Mediator.Source.COMMITTEE
    if Mediator.objects.filter(community_id=community.pk, user_id=user_id).exists():
        raise Conflict(_("此人已在本社区调解员名册中。"))
    ratelimit.check(ROSTER_LIMIT, user=actor)
    with governed_write(
        actor=actor, action="mediation.mediator_added", community_id=community.pk
    ) as w:
        m = Mediator.objects.create(
            community=community,
            user_id=user_id,
            source=source,
            volunteer=volunteer,
            name=name,
            speciality=speciality,
        )
        w.target = m
        w.payload.update(source=source)
    return m


def mediator_set_active(*, actor: Actor, mediator: Mediator, active: bool) -> Mediator:
    """Take someone off the roster (their past cases keep them) or put them back."""
    if not can_manage_roster(actor, mediator.community_id):
        raise NotFound()
    with governed_write(
        actor=actor, action="mediation.mediator_active", community_id=mediator.community_id
    ) as w:
        Mediator.objects.filter(pk=mediator.pk, community_id=mediator.community_id).update(
            is_active=active
        )
        mediator.is_active = active
        w.target = mediator
        w.payload.update(active=active)
    return mediator
