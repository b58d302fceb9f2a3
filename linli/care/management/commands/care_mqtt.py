"""Run the MQTT bridge for sensor gateways: subscribe to ``linli/care/+/readings`` on
the broker and feed every message to the same ingest service as the HTTP endpoint."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linli.care.mqtt import TOPIC, make_client


class Command(BaseCommand):
    help = "传感器网关 MQTT 接入（Mosquitto），与 HTTP 上报共用同一服务。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=1883)
        parser.add_argument("--client-id", default="linli-care-bridge")

    def handle(self, *args: Any, **opts: Any) -> None:
        client = make_client(client_id=opts["client_id"])
        client.connect(opts["host"], opts["port"], keepalive=30)
        self.stdout.write(f"care mqtt bridge on {opts['host']}:{opts['port']} topic {TOPIC}")
        client.loop_forever()
