"""One-time activation codes handed out at the service window (代办).

A community worker, the secretary or a grid worker of the resident's community issues
a code for a resident (shown once, 8 characters from an alphabet without look-alikes,
kept only as an HMAC, valid 7 days, single use; a new code replaces the earlier one).
The resident opens "激活账号", types the code and a password (and a phone number if
they have one): their account is created and linked to the resident, or — if they
already have one — its password is set. Both steps are audited.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import ActivationCode, Membership, Role, User
from linli.accounts.reset import normalise_phone
from linli.accounts.scope import scope_of
from linli.communities.models import Resident
from linli.core import ratelimit
from linli.core.errors import NotFound, ValidationFailed
from linli.core.writes import governed_write, lock_row

CODE_TTL = timedelta(days=7)
CODE_LENGTH = 8
# No 0/O, 1/I/L: read aloud and copied from paper at a counter.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ISSUER_ROLES = (Role.COMMUNITY_WORKER, Role.SECRETARY, Role.GRID_WORKER)
REDEEM_LIMIT = "accounts.activate"

ratelimit.LIMITS.setdefault(REDEEM_LIMIT, {"ip": ratelimit.Limit(per_minute=10, per_day=100)})


def _digest(code: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"activation:{code}".encode(), hashlib.sha256
    ).hexdigest()


def normalise_code(raw: str) -> str:
    return re.sub(r"[\s\-]", "", raw or "").upper()


def _invalid() -> ValidationFailed:
    return ValidationFailed(
        _("激活码不正确、已使用或已过期，请向社区工作人员重新申请。"), field="code"
    )


def resident_for_issuer(*, viewer: User, resident_id: int) -> Resident:
    """The resident if ``viewer`` may issue a code for them, else ``NotFound`` (the
    same as a missing resident)."""
    scope = scope_of(viewer)
    communities = scope.community_ids_for(*ISSUER_ROLES)
    resident = (
        Resident.objects.select_related("household", "user")
        .filter(pk=resident_id, community_id__in=communities)
        .first()
    )
    if resident is None:
        raise NotFound(_("未找到该居民。"))
    return resident


def activation_code_issue(*, actor: User, resident_id: int) -> tuple[ActivationCode, str]:
    """Issue a code for a resident of one of the actor's communities. Returns the row
    and the plain code, which is never stored and must be shown only once."""
    resident = resident_for_issuer(viewer=actor, resident_id=resident_id)
    code = "".join(secrets.choice(ALPHABET) for _i in range(CODE_LENGTH))
    now = timezone.now()
    with governed_write(
        actor=actor, action="accounts.activation_issue", community_id=resident.community_id
    ) as w:
        ActivationCode.objects.filter(
            community_id=resident.community_id, resident=resident, used_at__isnull=True
        ).update(used_at=now, updated_at=now)
        row = ActivationCode.objects.create(
            community_id=resident.community_id,
            resident=resident,
            issued_by=actor,
            code_hash=_digest(code),
            expires_at=now + CODE_TTL,
        )
        w.target = row
        w.payload["resident"] = resident.pk
    return row, code


@dataclass
class Activated:
    user: User
    created: bool


def activation_redeem(
    *, code: str, password: str, phone: str = "", ip: str | None = None
) -> Activated:
    """Spend a valid code: create the resident's account (or set the password of the one
    they have) and link it to the resident. A refused password or phone does not spend
    the code."""
    ratelimit.check(REDEEM_LIMIT, ip=ip)
    code = normalise_code(code)
    phone = normalise_phone(phone) if (phone or "").strip() else ""
    if len(code) != CODE_LENGTH:
        raise _invalid()
    now = timezone.now()
    row = (
        ActivationCode.objects.select_related("resident", "resident__user")
        .filter(code_hash=_digest(code), used_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if row is None:
        raise _invalid()
    resident = row.resident
    user = resident.user
    taken = User.objects.filter(phone=phone)
    if user is not None:
        taken = taken.exclude(pk=user.pk)
    if phone and taken.exists():
        raise ValidationFailed(
            _("该手机号已绑定其他账号，请换一个号码，或留空后由社区工作人员核实。"), field="phone"
        )
    candidate = user or User(username=f"jm{resident.pk}", display_name=resident.name)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), field="password1") from exc
    with governed_write(
        actor=None, action="accounts.activation_redeem", community_id=row.community_id
    ) as w:
        locked = lock_row(ActivationCode.objects.filter(community_id=row.community_id), row.pk)
        if locked.used_at is not None or locked.expires_at <= now:
            raise _invalid()  # a concurrent use won
        locked.used_at = now
        locked.save(update_fields=["used_at", "updated_at"])
        created = user is None
        if user is None:
            username = f"jm{resident.pk}"
            if User.objects.filter(username=username).exists():
                username = f"jm{resident.pk}-{secrets.token_hex(2)}"
            user = User(username=username, display_name=resident.name)
        if phone:
            user.phone = phone
        user.set_password(password)
        user.is_active = True
        user.save()
        if created:
            Resident.objects.filter(community_id=row.community_id, pk=resident.pk).update(user=user)
            Membership.objects.get_or_create(
                user=user, role=Role.RESIDENT, unit_id=row.community_id, is_active=True
            )
        w.actor = user
        w.target = locked
        w.payload.update({"resident": resident.pk, "user": user.pk, "created": created})
    return Activated(user=user, created=created)
