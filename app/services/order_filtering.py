"""ORDER_FILTERING's keys, checked when the setting is saved (admin screen and API).

The shape check in `services/settings.py` (an object; `accepted_statuses` a list of names) runs
when the value is read too. This one runs only when it is saved: a key the planner does not
know (`accepted_status`, `rejected_statuses`) is most likely a typo that would otherwise be
ignored without a word, so the admin is told which key and which keys there are, and nothing is
stored. A value stored before this check keeps working (its unknown keys were always ignored;
docs/decisions.md)."""

from __future__ import annotations

import json
from typing import Any

from flask_babel import ngettext

ALLOWED_KEYS = ("accepted_statuses",)


def unknown_keys_problem(value: Any) -> str | None:
    """What to tell the admin about keys ORDER_FILTERING does not have, or None."""
    if not isinstance(value, dict):
        return None  # the shape check says what an object looks like
    unknown = [key for key in value if key not in ALLOWED_KEYS]
    if not unknown:
        return None
    return ngettext(
        "ORDER_FILTERING has no key %(keys)s. The allowed key is %(allowed)s, for example "
        '{"accepted_statuses": ["approved"]}; nothing was saved.',
        "ORDER_FILTERING has no keys %(keys)s. The allowed key is %(allowed)s, for example "
        '{"accepted_statuses": ["approved"]}; nothing was saved.',
        len(unknown), keys=", ".join(json.dumps(key, ensure_ascii=False) for key in unknown),
        allowed=", ".join(json.dumps(key) for key in ALLOWED_KEYS))
