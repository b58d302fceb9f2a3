"""Pluggable senders for notifications (SMS, WeChat, in-app). The console sender is the
default; the memory sender records messages for tests. Send only after commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from linli.core import ratelimit

log = logging.getLogger("linli.notify")


@dataclass(frozen=True)
class Message:
    channel: str  # "sms", "wechat", "inapp"
    to: str
    subject: str
    body: str


class Sender(Protocol):
    def send(self, message: Message) -> None: ...


class ConsoleSender:
    def send(self, message: Message) -> None:
        log.warning("[%s → %s] %s: %s", message.channel, message.to, message.subject, message.body)


class MemorySender:
    outbox: list[Message] = []

    def send(self, message: Message) -> None:
        MemorySender.outbox.append(message)


def get_sender() -> Sender:
    sender: Sender = import_string(settings.LINLI_NOTIFIER)()
    return sender


def deliver(message: Message) -> bool:
    """Send ``message`` now, unless its phone number has had its share of SMS: a cap per
    number (``notify.sms`` in ``linli.core.ratelimit``) so no number is flooded,
    whoever triggers the messages. Returns whether it was sent."""
    if message.channel == "sms" and not ratelimit.allowed("notify.sms", key=message.to):
        log.warning("SMS to %s dropped: per-number rate limit reached", message.to[-4:])
        return False
    get_sender().send(message)
    return True


def send_on_commit(message: Message) -> None:
    """Queue ``message`` to go out only if the surrounding transaction commits."""
    transaction.on_commit(lambda: deliver(message))
