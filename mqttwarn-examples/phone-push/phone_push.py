# -*- coding: utf-8 -*-
"""mqttwarn user-defined functions for phone-push.ini (dnssec2mqtt events to a phone)."""
import json

# Key roles whose events always reach the phone: a KSK (or a CSK, which is also the key
# the parent's DS and RFC 5011 trust anchors point at) changing is never routine.
TRUST_ANCHOR_ROLES = ("KSK", "CSK")

# The all-clears (priority 0) of the lasting conditions whose priority-1 event was pushed: the
# phone that got "unreachable" at night also hears "reachable again". One-off changes have none.
ALL_CLEAR = ("zone_recovered", "dnskey_valid", "rrsig_ok", "server_synced", "zone_fresh", "ds_orphan_gone")


def phone_filter(topic, payload, section=None, srv=None):
    """
    mqttwarn filter: return True to SUPPRESS the message.

    Passes events with priority 1 (revoked, removed, unreachable, ...), their all-clears
    (zone_recovered, dnskey_valid, ...) and every event about a KSK or CSK; suppresses the other
    normal-priority events (zone_added, ZSK rollovers) and anything that is not a dnssec2mqtt event.

    >>> phone_filter('dnssec/example.com/events', '{"event":"key_removed","priority":1}')
    False
    >>> phone_filter('dnssec/example.com/events', '{"event":"key_added","role":"ZSK","priority":0}')
    True
    >>> phone_filter('dnssec/example.com/events', '{"event":"zone_recovered","priority":0}')
    False
    """
    try:
        event = json.loads(payload)
    except ValueError:
        return True
    if not isinstance(event, dict) or "event" not in event:
        return True
    if event.get("priority") == 1 or event["event"] in ALL_CLEAR:
        return False
    return event.get("role") not in TRUST_ANCHOR_ROLES
