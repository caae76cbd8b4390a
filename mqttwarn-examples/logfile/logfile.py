# -*- coding: utf-8 -*-
"""mqttwarn user-defined functions for logfile.ini (dnssec2mqtt events as key-listen lines)."""
import json


def event_line(topic, data, srv=None):
    """
    mqttwarn alldata function: returns {'line': ...}, one key-listen style line for the event.

    mqttwarn calls alldata before it merges the JSON keys into the transformation data, so the
    event is read from the raw `payload` here.

    >>> event_line('dnssec/example.com/events', {'payload': '{"event":"key_removed","zone":"example.com",'
    ...     '"keytag":12473,"flags":385,"role":"KSK","state":"revoked","algorithm":13,'
    ...     '"algorithm_name":"ECDSAP256SHA256","at":"2026-11-22T06:30:00Z"}'})['line']
    'example.com. ; Key-ID 12473 ; KSK revoked ECDSAP256SHA256 ; key_removed 2026-11-22T06:30:00Z'
    """
    try:
        event = json.loads(data.get("payload") or "")
    except ValueError:
        event = None
    if not isinstance(event, dict) or "event" not in event:
        return {"line": "%s ; not a dnssec2mqtt event: %s" % (topic, data.get("payload"))}
    zone = event.get("zone", "?")
    owner = zone if zone.endswith(".") else zone + "."
    kind = event["event"]
    parts = [owner]
    if "keytag" in event:
        tag = "Key-ID %s" % event["keytag"]
        if "original_keytag" in event:
            tag += " (was %s)" % event["original_keytag"]
        parts.append(tag)
        what = "%s %s %s" % (event.get("role", "?"), event.get("state", "?"), event.get("algorithm_name", "?"))
        if "previous_state" in event and event["previous_state"] != event.get("state"):
            what += " (was %s)" % event["previous_state"]
        parts.append(what)
    elif kind == "zone_added":
        parts.append("Key-IDs " + " ".join(str(t) for t in event.get("keytags", [])))
    elif kind == "zone_unreachable":
        parts.append("%s: %s" % (event.get("server", "?"), event.get("error", "?")))
    elif kind == "zone_recovered":
        parts.append(event.get("server", "?"))
    else:
        parts.append(event.get("message", ""))
    parts.append("%s %s" % (kind, event.get("at", "?")))
    return {"line": " ; ".join(parts)}
