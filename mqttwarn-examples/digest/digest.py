# -*- coding: utf-8 -*-
"""
mqttwarn user-defined functions for digest.ini: collect dnssec2mqtt events and zone states,
publish one digest per [cron] period.

Filters run on mqttwarn's MQTT thread, the [cron] task on a timer thread: a lock guards the
collected data.
"""
import json
import threading

# Where digest_flush() publishes the digest; digest.ini's [dnssec-digest] section mails it.
# mqttwarn's broker account needs write access to this topic.
DIGEST_TOPIC = "mqttwarn/dnssec2mqtt/digest"

# Events that ../phone-push sends at once are left out: same rule as its phone_filter().
TRUST_ANCHOR_ROLES = ("KSK", "CSK")
ALL_CLEAR = ("zone_recovered", "dnskey_valid", "rrsig_ok", "server_synced", "zone_fresh", "ds_orphan_gone")

# A bound on memory if nobody flushes (a zone in a rollover loop, a broken cron).
MAX_EVENTS = 1000

_lock = threading.Lock()
_events = []  # one line per event since the last digest
_dropped = 0
_states = {}  # zone -> (status, problem, checked_at), latest seen


def pushed_to_phone(event):
    """True for what phone-push sends immediately (priority 1, their all-clears, or about a KSK/CSK)."""
    return event.get("priority") == 1 or event.get("event") in ALL_CLEAR or event.get("role") in TRUST_ANCHOR_ROLES


def digest_keep_event(topic, payload, section=None, srv=None):
    """mqttwarn filter: keeps an event for the digest; always returns True (suppress now)."""
    global _dropped
    try:
        event = json.loads(payload)
    except ValueError:
        return True
    if not isinstance(event, dict) or "event" not in event or pushed_to_phone(event):
        return True
    line = "%s  %s: %s" % (event.get("at", "?"), event.get("zone", "?"), event.get("message", event["event"]))
    with _lock:
        if len(_events) < MAX_EVENTS:
            _events.append(line)
        else:
            _dropped += 1
    return True


def digest_keep_state(topic, payload, section=None, srv=None):
    """mqttwarn filter: remembers each zone's latest state; always returns True (suppress now)."""
    try:
        state = json.loads(payload)
    except ValueError:
        return True
    if not isinstance(state, dict) or "zone" not in state or "status" not in state:
        return True
    with _lock:
        _states[state["zone"]] = (state["status"], state.get("problem", ""), state.get("checked_at", "?"))
    return True


def digest_message():
    """The digest as a flat JSON-ready dict, and clears the events; None when there is nothing to say."""
    global _dropped
    with _lock:
        events = list(_events)
        dropped = _dropped
        problems = sorted((zone, s) for zone, s in _states.items() if s[0] != "ok")
        del _events[:]
        _dropped = 0
    if not events and not problems:
        return None
    lines = []
    if problems:
        lines.append("Zones not ok:")
        for zone, (status, problem, checked_at) in problems:
            lines.append("  %s: %s, %s (checked %s)" % (zone, status, problem or "no detail", checked_at))
        lines.append("")
    if events:
        lines.append("Events:")
        lines.extend("  " + line for line in events)
    if dropped:
        lines.append("  ... and %d more events" % dropped)
    return {"events": len(events) + dropped, "problems": len(problems), "text": "\n".join(lines)}


def digest_flush(srv=None):
    """mqttwarn [cron] task: publishes the digest (if any) for the [dnssec-digest] section."""
    message = digest_message()
    if message is None:
        return
    srv.mqttc.publish(DIGEST_TOPIC, json.dumps(message), qos=1, retain=False)
