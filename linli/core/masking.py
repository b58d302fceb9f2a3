"""Masking for sensitive values shown in lists (138****1234)."""

from __future__ import annotations


def mask_phone(phone: str) -> str:
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def mask_id_number(value: str) -> str:
    if not value:
        return ""
    if len(value) < 10:
        return "*" * len(value)
    return f"{value[:6]}{'*' * (len(value) - 10)}{value[-4:]}"


def mask_name(name: str) -> str:
    """张三丰 → 张**: how reporters and voters appear to the public."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)
