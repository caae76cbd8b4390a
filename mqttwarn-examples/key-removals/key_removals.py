# -*- coding: utf-8 -*-
"""mqttwarn user-defined functions for key-removals.ini (dnssec2mqtt key topics as text lines)."""
import json
from urllib.parse import unquote

# (zone, old topic id) -> new key tag, for revocations seen in the last moments. Revoking a key
# changes its tag (RFC 5011), so dnssec2mqtt publishes the key under its new tag and then clears
# the old topic: that empty payload is a move, not a removal. Bounded: entries are used once.
_moved = {}
_MAX_MOVED = 1000


def _topic_parts(topic):
    """(zone, topic id) from <prefix>/<zone>/keys/<keytag>; zones are percent-encoded in topics."""
    parts = topic.split("/")
    if len(parts) < 4 or parts[-2] != "keys":
        return None, None
    return unquote(parts[-3]), parts[-1]


def key_line(topic, data, srv=None):
    """
    mqttwarn alldata function: returns {'line': ...} for one message on a key topic.

    mqttwarn calls alldata before it decodes the JSON, so the key is read from the raw `payload`.

    >>> key_line('dnssec/example.com/keys/12473', {'payload': ''})['line']
    'key 12473 of example.com removed'
    """
    zone, tag = _topic_parts(topic)
    if zone is None:
        return {"line": "%s: not a dnssec2mqtt key topic" % topic}
    payload = data.get("payload") or ""
    if payload == "":
        new_tag = _moved.pop((zone, tag), None)
        if new_tag is not None:
            return {"line": "key %s of %s revoked: it is key %s now (RFC 5011)" % (tag, zone, new_tag)}
        return {"line": "key %s of %s removed" % (tag, zone)}
    try:
        key = json.loads(payload)
    except ValueError:
        return {"line": "key %s of %s: unreadable payload %r" % (tag, zone, payload[:100])}
    if not isinstance(key, dict):
        return {"line": "key %s of %s: unreadable payload %r" % (tag, zone, payload[:100])}
    if key.get("original_keytag") is not None:
        if len(_moved) >= _MAX_MOVED:
            _moved.clear()
        _moved[(zone, str(key["original_keytag"]))] = key.get("keytag", tag)
    text = "key %s of %s: %s %s, %s" % (tag, zone, key.get("role", "?"), key.get("state", "?"),
                                        key.get("algorithm_name", "?"))
    if key.get("bits"):
        text += " %s bits" % key["bits"]
    if key.get("original_keytag") is not None:
        text += ", was key %s" % key["original_keytag"]
    if key.get("ds_sha256"):
        text += ", DS %s" % key["ds_sha256"]
    return {"line": text}
