"""Devices per household (and gateways), each with its own signing secret.

The secret is derived, not stored: ``HMAC-SHA256(SECRET_KEY, "care-device:<serial>:<nonce>")``.
Registration and rotation return it once (to be written into the device); a new
nonce rotates it and the old one stops working at once."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.care.models import Device, DeviceKind
from linli.care.permissions import can_manage_devices
from linli.communities.models import Household, OrgUnit
from linli.core import ratelimit
from linli.core.errors import Conflict, PermissionDenied, ValidationFailed
from linli.core.types import Actor
from linli.core.writes import governed_write, insert_or_skip, lock_row

ratelimit.LIMITS.setdefault("care.device", {"user": ratelimit.Limit(per_minute=60, per_day=2000)})

SERIAL_RE = re.compile(r"^[A-Za-z0-9_.:\-]{3,40}$")


def device_secret(device: Device) -> str:
    msg = f"care-device:{device.serial}:{device.secret_nonce}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), msg, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature a device sends: hex HMAC-SHA256 over ``<timestamp>.<body>``."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def device_register(
    *,
    actor: Actor,
    community: OrgUnit,
    kind: str,
    serial: str,
    household: Household | None = None,
    gateway: Device | None = None,
    now: datetime | None = None,
) -> tuple[Device, str]:
    """Register a device (community workers, the secretary). Returns the device and
    its secret, shown once."""
    if not can_manage_devices(actor, community):
        raise PermissionDenied()
    serial = (serial or "").strip()
    if not SERIAL_RE.match(serial):
        raise ValidationFailed(_("设备编号为3–40位字母、数字或 - _ . :。"), field="serial")
    if kind not in DeviceKind.values:
        raise ValidationFailed(_("未知的设备类型。"), field="kind")
    if kind == DeviceKind.GATEWAY:
        household = None
        gateway = None
    elif household is None:
        raise ValidationFailed(_("请选择设备所在的户。"), field="household")
    if household is not None and household.community_id != community.pk:
        raise ValidationFailed(_("该户不属于本社区。"), field="household")
    if gateway is not None and (
        gateway.kind != DeviceKind.GATEWAY or gateway.community_id != community.pk
    ):
        raise ValidationFailed(_("请选择本社区的网关。"), field="gateway")
    ratelimit.check("care.device", user=actor)
    with governed_write(
        actor=actor, action="care.device_registered", community_id=community.pk
    ) as w:
        device = Device(
            community=community,
            household=household,
            gateway=gateway,
            kind=kind,
            serial=serial,
            secret_nonce=secrets.token_hex(16),
            registered_at=now or timezone.now(),
        )
        if not insert_or_skip(device):
            raise Conflict(_("该设备编号已登记。"))
        w.target = device
        w.payload = {
            "serial": serial,
            "kind": kind,
            "household": household.pk if household else None,
        }
    return device, device_secret(device)


def device_rotate(*, actor: Actor, device: Device) -> str:
    if not can_manage_devices(actor, device):
        raise PermissionDenied()
    with governed_write(
        actor=actor, action="care.device_rotated", community_id=device.community_id
    ) as w:
        row = lock_row(Device.objects.all(), device.pk, community_id=device.community_id)
        row.secret_nonce = secrets.token_hex(16)
        row.save(update_fields=["secret_nonce", "updated_at"])
        w.target = row
    device.secret_nonce = row.secret_nonce
    return device_secret(row)


def device_set_active(*, actor: Actor, device: Device, active: bool) -> Device:
    if not can_manage_devices(actor, device):
        raise PermissionDenied()
    with governed_write(
        actor=actor,
        action="care.device_enabled" if active else "care.device_disabled",
        community_id=device.community_id,
    ) as w:
        row = lock_row(Device.objects.all(), device.pk, community_id=device.community_id)
        row.is_active = active
        row.save(update_fields=["is_active", "updated_at"])
        w.target = row
    return row
