# -*- coding: utf-8 -*-
"""mqttwarn user-defined functions for phone-push.ini (dnssec2mqtt events to a phone)."""
import json

# Key roles whose events always reach the phone: a KSK (or a CSK, which is also the key
# the parent's DS and RFC 5011 trust anchors point at) changing is never routine.
TRUST_ANCHOR_ROLES = ("KSK", "CSK")


def phone_filter(topic, payload, section=None, srv=None):
    """
    mqttwarn filter: return True to SUPPRESS the message.

    Passes events with priority 1 (revoked, removed, unreachable, ...) and every event about a
    KSK or CSK; suppresses the other normal-priority events (zone_added, ZSK rollovers,
    zone_recovered) and anything that is not a dnssec2mqtt event.

    >>> phone_filter('dnssec/example.com/events', '{"event":"key_removed","priority":1}')
    False
    >>> phone_filter('dnssec/example.com/events', '{"event":"key_added","role":"ZSK","priority":0}')
    True
    """
    try:
        event = json.loads(payload)
    except ValueError:
        return True
    if not isinstance(event, dict) or "event" not in event:
        return True
    if event.get("priority") == 1:
        return False
    return event.get("role") not in TRUST_ANCHOR_ROLES
