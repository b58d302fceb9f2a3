"""MQTT intake for gateways (Mosquitto; paho-mqtt), feeding the same service as HTTP.

A gateway publishes to ``linli/care/<sender serial>/readings`` a JSON envelope::

    {"ts": "<unix seconds>", "sig": "<hex HMAC-SHA256(secret, ts + '.' + body)>",
     "body": "<the same JSON text the HTTP endpoint takes>"}

``body`` is carried as a string so the signed bytes arrive unchanged. The bridge
answers on ``linli/care/<sender>/ack`` with ``{"accepted", "duplicates", "alerts"}``
or ``{"code", "message"}`` (the same refusals as HTTP). QoS 1: a redelivered message
is a replay and is refused; its readings were stored the first time."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.db import close_old_connections, connection

from linli.care.services.ingest import ingest
from linli.core.errors import DomainError

log = logging.getLogger("linli.care.mqtt")

TOPIC = "linli/care/+/readings"


def sender_of(topic: str) -> str | None:
    parts = topic.split("/")
    if len(parts) == 4 and parts[:2] == ["linli", "care"] and parts[3] == "readings":
        return parts[2]
    return None


def handle(topic: str, payload: bytes) -> tuple[str | None, dict[str, Any]]:
    """One message → (reply topic, reply). Never raises: a bad message gets a reply
    saying why (or none when the topic names no sender)."""
    sender = sender_of(topic)
    if sender is None:
        return None, {}
    reply_to = f"linli/care/{sender}/ack"
    try:
        env = json.loads(payload)
        if not isinstance(env, dict) or not isinstance(env.get("body"), str):
            raise ValueError
        body = env["body"].encode()
        r = ingest(
            sender=sender,
            timestamp=str(env.get("ts", "")),
            signature=str(env.get("sig", "")),
            body=body,
        )
    except DomainError as exc:
        return reply_to, exc.as_dict()
    except (ValueError, UnicodeDecodeError):
        return reply_to, {"code": "invalid", "message": "envelope must be {ts, sig, body}"}
    except Exception:  # keep the bridge alive; the failure is logged with its cause
        log.exception("care mqtt message from %s failed", sender)
        return reply_to, {"code": "error", "message": "internal error"}
    finally:
        # A long-running bridge drops stale connections between messages, as Django
        # does between requests (not inside a transaction someone else holds).
        if not connection.in_atomic_block:
            close_old_connections()
    return reply_to, {"accepted": r.accepted, "duplicates": r.duplicates, "alerts": r.alerts}


def make_client(*, client_id: str = "linli-care-bridge", persistent: bool = True) -> Any:
    """A paho client wired to :func:`handle` (connect and loop are the caller's).
    ``persistent``: the broker keeps the subscription and queues QoS 1 messages while
    the bridge is down (clean_session off), so a restart loses nothing."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=not persistent
    )

    def on_connect(c: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        c.subscribe(TOPIC, qos=1)

    def on_message(c: Any, userdata: Any, msg: Any) -> None:
        reply_to, reply = handle(msg.topic, msg.payload)
        if reply_to:
            c.publish(reply_to, json.dumps(reply, ensure_ascii=False), qos=1)

    client.on_connect = on_connect
    client.on_message = on_message
    return client
