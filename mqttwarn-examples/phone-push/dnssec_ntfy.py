# -*- coding: utf-8 -*-
"""
mqttwarn service module: ntfy, with dnssec2mqtt's event priority mapped to ntfy's scale.

mqttwarn's ntfy plugin takes the ntfy fields `title`, `message` and `priority` from the decoded
JSON payload first (before the target and the [config:ntfy] section). dnssec2mqtt events carry
`priority` 0 (normal) or 1 (high); ntfy reads 1 as "min" and rejects 0 ("invalid priority").
This module rewrites the value to ntfy's names, then calls the stock plugin.

Use it with `module = 'dnssec_ntfy.py'` in [config:ntfy]; mqttwarn resolves the path relative
to the .ini file.
"""
from mqttwarn.services import ntfy

# dnssec2mqtt priority -> ntfy priority (https://docs.ntfy.sh/publish/#message-priority)
NTFY_PRIORITY = {0: "default", 1: "high"}


def plugin(srv, item):
    if isinstance(item.data, dict) and "priority" in item.data:
        data = dict(item.data)
        data["priority"] = NTFY_PRIORITY.get(data["priority"], "default")
        item.data = data
    return ntfy.plugin(srv, item)
