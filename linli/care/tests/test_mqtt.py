"""MQTT intake through the real broker (Mosquitto on 127.0.0.1:1883): a gateway
publishes a signed batch, the bridge feeds the ingest service and answers on the ack
topic; a redelivered message is refused as a replay."""

from __future__ import annotations

import json
import socket
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from linli.care import mqtt, services
from linli.care.models import Reading
from linli.care.tests.conftest import Care, meter_series

pytestmark = pytest.mark.django_db


def _broker() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 1883), timeout=1).close()
    except OSError:
        return False
    return True


def _envelope(care: Care, readings: list[dict[str, Any]]) -> bytes:
    body = json.dumps({"readings": readings})
    ts = str(int(timezone.now().timestamp()))
    return json.dumps(
        {"ts": ts, "sig": services.sign(care.gateway_secret, ts, body.encode()), "body": body}
    ).encode()


def test_handle_without_broker(care: Care) -> None:
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    payload = _envelope(care, meter_series("WM-101", start, [1, 2, 3]))
    reply_to, reply = mqtt.handle("linli/care/GW-1/readings", payload)
    assert reply_to == "linli/care/GW-1/ack" and reply["accepted"] == 3
    _to, again = mqtt.handle("linli/care/GW-1/readings", payload)
    assert again["code"] == "replayed"
    assert mqtt.handle("linli/care/GW-1/readings", b"{nope")[1]["code"] == "invalid"
    assert mqtt.handle("other/topic", payload) == (None, {})


@pytest.mark.skipif(not _broker(), reason="Mosquitto is not running on 127.0.0.1:1883")
def test_publish_through_the_real_broker(care: Care) -> None:
    import paho.mqtt.client as paho

    tag = uuid.uuid4().hex[:8]
    bridge = mqtt.make_client(client_id=f"test-bridge-{tag}", persistent=False)
    bridge.connect("127.0.0.1", 1883, keepalive=10)
    replies: list[dict[str, Any]] = []
    gw = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"test-gw-{tag}")
    gw.on_message = lambda c, u, m: replies.append(json.loads(m.payload))
    gw.connect("127.0.0.1", 1883, keepalive=10)
    gw.subscribe("linli/care/GW-1/ack", qos=1)
    # Let both subscriptions settle (everything runs in this thread: the test database
    # transaction is visible to the bridge's handler).
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not bridge.is_connected():
        bridge.loop(0.05)
        gw.loop(0.05)
    for _i in range(10):
        bridge.loop(0.05)
        gw.loop(0.05)
    start = timezone.now().replace(microsecond=0) - timedelta(hours=2)
    gw.publish(
        "linli/care/GW-1/readings",
        _envelope(care, meter_series("WM-101", start, [10, 20, 30, 40])),
        qos=1,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not replies:
        gw.loop(0.05)
        bridge.loop(0.05)
    bridge.disconnect()
    gw.disconnect()
    assert replies and replies[0]["accepted"] == 4
    assert Reading.objects.filter(device=care.meter).count() == 4
