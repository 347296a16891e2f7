"""Sentences saved now and read later, in the reader's language (SPEC §15, docs/languages.md).

Some of our sentences are stored before anyone reads them: an inbox entry's reason, a channel
update's error, the steps of a planning trace. They are kept as a *message* — the catalogue's
message id (the English sentence, marked for `make i18n`) and its values:

    {"id": "Unknown SKU %(skus)s: add the product, ...", "values": {"skus": ["A-1", "B-2"]}}

and said when they are shown: `text(message)` in the current language (the request's),
`english(message)` for logs and the API. A value is text, a number (an int as it is: ids and
codes; `{"number": n}` for a quantity shown with the reader's grouping, "131,072" / "131.072"),
a list (said joined with ", "; `{"items": [...], "sep": "; "}` for another separator) or a message itself. A stored message whose
id is no longer in the catalogue (the English was reworded since) is said in its stored English;
a plain string is said as it is (older rows, the channel's own words).

Two ways to make one:
- `said(N_("..."), **values)` where the sentence is put together (the planning engine, which
  never calls gettext: it runs in batches without a reader);
- `recall(text)` for a sentence already said through gettext (`_()`) inside `listening()`: every
  gettext call in that block is remembered with its id and values (`heard`, told by the catalogue
  domain in app/i18n.py), so a message raised deep in a service (a ServiceError's, a connector's
  MappingProblem) can be kept as the message it was, not only as the words of the worker's
  language.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from flask_babel import force_locale, gettext, ngettext

Message = dict[str, Any]
MAX_HEARD = 2000  # sentences remembered per listening block: the latest ones (a long job keeps going)
MAX_DEPTH = 4


def N_(msgid: str) -> str:  # noqa: N802 — the gettext convention `make i18n` extracts
    """Marks a message id for the catalogue without translating it (it is said later)."""
    return msgid


def said(msgid: str, **values: Any) -> Message:
    """A message to store: its catalogue id and values."""
    return {"id": msgid, "values": values} if values else {"id": msgid}


def joined(items: list[Any], sep: str = ", ") -> dict[str, Any]:
    """Values said one after the other, with `sep` between them."""
    return {"items": list(items), "sep": sep}


def is_message(value: Any) -> bool:
    return isinstance(value, dict) and (isinstance(value.get("id"), str) or isinstance(value.get("items"), list))


def text(message: Any) -> str:
    """The message in the current language (plain strings as they are)."""
    return _say(message, 0)


def english(message: Any) -> str:
    """The message in English: what logs and the API keep."""
    with force_locale("en"):
        return _say(message, 0)


def _say(message: Any, depth: int) -> str:
    if message is None:
        return ""
    if isinstance(message, str):
        return message
    if isinstance(message, bool):
        return str(message)
    if isinstance(message, int):
        return str(message)
    if isinstance(message, float):
        from app.i18n import format_number

        return format_number(message)
    if isinstance(message, (list, tuple)):
        return ", ".join(_say(v, depth + 1) for v in message)
    if not isinstance(message, dict) or depth > MAX_DEPTH * 3:
        return str(message)
    if set(message) == {"number"} and isinstance(message["number"], (int, float)):
        from app.i18n import format_number

        return format_number(message["number"])
    if isinstance(message.get("items"), list):
        return str(message.get("sep", ", ")).join(_say(v, depth + 1) for v in message["items"])
    msgid = message.get("id")
    if not isinstance(msgid, str):
        return ""
    values = {str(k): _say(v, depth + 1) for k, v in (message.get("values") or {}).items()}
    plural = message.get("plural")
    try:
        if isinstance(plural, str):
            return ngettext(msgid, plural, int(message.get("n") or 0), **values)
        return gettext(msgid, **values)
    except (KeyError, ValueError, TypeError):  # a translation that lost a value: the English
        try:
            return msgid % values if values else msgid
        except (KeyError, ValueError, TypeError):
            return msgid


# --- remembering what gettext said ----------------------------------------------------------------

_heard: ContextVar[dict[str, Message] | None] = ContextVar("packline_said_heard", default=None)


@contextmanager
def listening() -> Iterator[None]:
    """Remember every sentence said through the catalogue in this block (see `recall`)."""
    token = _heard.set({})
    try:
        yield
    finally:
        _heard.reset(token)


def heard(text_said: Any, msgid: str, values: dict[str, Any], plural: str | None = None,
          n: int | None = None) -> None:
    """Called by the catalogue domain for every gettext/ngettext; cheap when nobody listens."""
    book = _heard.get()
    if book is None or not isinstance(text_said, str):
        return
    if len(book) >= MAX_HEARD and text_said not in book:
        del book[next(iter(book))]  # the oldest: a job row after row needs what it said last
    entry: Message = {"id": msgid, "values": dict(values)}
    if plural is not None:
        entry["plural"], entry["n"] = plural, n
    book[text_said] = entry


def recall(value: Any, _depth: int = 0) -> Any:
    """The message behind a sentence said while listening, with its values recalled the same
    way; the text itself when it was not said through the catalogue (or nobody listened)."""
    if value is None or isinstance(value, (dict, list)):
        return value
    value = str(value)
    book = _heard.get()
    found = book.get(value) if book else None
    if found is None or _depth > MAX_DEPTH:
        return value
    message: Message = {"id": found["id"]}
    values = {k: _kept(v, _depth + 1) for k, v in found["values"].items()}
    if values:
        message["values"] = values
    if "plural" in found:
        message["plural"], message["n"] = found["plural"], found["n"]
    return message


def _kept(value: Any, depth: int) -> Any:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [_kept(v, depth + 1) for v in value]
    return recall(str(value), depth)


def stored(message: Any) -> tuple[str | None, Message | None]:
    """(English text, message to store or None) for a reason given as text or message: the text
    is recalled first, so a sentence said through the catalogue keeps its id and values."""
    if message is None or message == "":
        return None, None
    if not is_message(message):
        message = recall(message)
    if not is_message(message):
        return str(message), None
    return english(message), _plain(message)


def stored_message(message: Any) -> Message | None:
    """A message to keep in a JSON column next to its English text, or None when it is only
    text (a carrier's own words are shown as stored)."""
    return _plain(message) if is_message(message) else None


def _plain(message: Any) -> Any:
    """JSON-safe (values that are neither text, numbers, lists nor messages become text)."""
    return json.loads(json.dumps(message, default=str, ensure_ascii=False))
