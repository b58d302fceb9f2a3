"""Writes for care, one module per aggregate (re-exported here)."""

from linli.care.services.alerts import (
    alert_acknowledge,
    alert_escalate,
    alert_recover,
    alert_release,
    alert_resolve,
    raise_alert,
)
from linli.care.services.devices import (
    device_register,
    device_rotate,
    device_secret,
    device_set_active,
    sign,
)
from linli.care.services.ingest import IngestResult, ingest
from linli.care.services.roster import (
    away_set,
    contact_add,
    contact_remove,
    event_declare,
    refresh_due,
    settings_for,
    settings_save,
    subject_enrol,
    subject_update,
)
from linli.care.services.sweep import (
    SweepResult,
    sweep,
    sweep_escalations,
    sweep_rules,
    sweep_visits,
)
from linli.care.services.visits import visit_record, visit_to_request, visit_to_timebank

__all__ = [
    "IngestResult",
    "SweepResult",
    "alert_acknowledge",
    "alert_escalate",
    "alert_recover",
    "alert_release",
    "alert_resolve",
    "away_set",
    "contact_add",
    "contact_remove",
    "device_register",
    "device_rotate",
    "device_secret",
    "device_set_active",
    "event_declare",
    "ingest",
    "raise_alert",
    "refresh_due",
    "settings_for",
    "settings_save",
    "sign",
    "subject_enrol",
    "subject_update",
    "sweep",
    "sweep_escalations",
    "sweep_rules",
    "sweep_visits",
    "visit_record",
    "visit_to_request",
    "visit_to_timebank",
]
