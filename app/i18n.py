"""Languages (SPEC §15): which one a request speaks, its catalogues, and locale formats.

English and Turkish. A request speaks, in this order:
1. the signed-in user's own choice (`users.language`, set in the header's switcher or My settings);
   before signing in, the choice made on the sign-in page (kept in the session);
2. the browser's `Accept-Language`, best match among ours;
3. the brand's `LANGUAGE` setting (default "en").
Outside a request (RQ jobs: labels, packing slips) the brand's setting decides, unless the caller
forces a locale (`flask_babel.force_locale`).

Catalogues are `app/translations/<lang>/LC_MESSAGES/messages.po` (docs/languages.md: `make i18n`
extracts and updates them). No compiled `.mo` is kept anywhere: each process compiles a
catalogue in memory the first time it needs it (a few milliseconds), so a fresh clone, a test
run and a production start always read the `.po` that is in the tree, and fuzzy entries are never
used (as `msgfmt` leaves them out).

Formats: `format_number`, `format_money`, `format_date`, `format_datetime` — Babel's, for the
request's locale; times go through `services/local_times.py` (the location's zone).
"""

from __future__ import annotations

import io
import os
import threading
from decimal import Decimal
from functools import cached_property
from typing import Any

from babel import Locale
from babel import numbers as babel_numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, g, has_app_context, has_request_context, request, session
from flask_babel import Babel, Domain, get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from app.services import said
from app.services.human_input import field_label
from app.services.local_times import show_date, show_planned, show_time, zone_name
from app.services.settings import get_setting

LANGUAGES: dict[str, str] = {"en": "English", "tr": "Türkçe"}
DEFAULT_LANGUAGE = "en"
DOMAIN = "messages"
TRANSLATIONS_DIR = os.path.join(os.path.dirname(__file__), "translations")
SESSION_KEY = "language"  # the choice made before signing in


def language_problem(value: object) -> str | None:
    """None when `value` is a language code we speak, else what to choose instead."""
    if value in LANGUAGES:
        return None
    return gettext("Choose one of: %(options)s.",
                   options=", ".join(f'"{code}" ({name})' for code, name in LANGUAGES.items()))


def brand_language() -> str:
    """The brand's LANGUAGE setting, read once per request; English outside the app (a script)."""
    if not has_app_context():
        return DEFAULT_LANGUAGE
    if has_request_context() and "packline_language" in g:
        return g.packline_language
    try:
        value = get_setting("LANGUAGE")
    except SQLAlchemyError:  # a message made while the transaction is failing still gets said
        value = None
    language = value if value in LANGUAGES else DEFAULT_LANGUAGE
    if has_request_context():
        g.packline_language = language
    return language


def user_language() -> str | None:
    """The signed-in user's own choice, else the one made before signing in; None when neither."""
    chosen = getattr(current_user, "language", None) if current_user and current_user.is_authenticated else None
    if chosen in LANGUAGES:
        return chosen
    chosen = session.get(SESSION_KEY)
    return chosen if chosen in LANGUAGES else None


def browser_language() -> str | None:
    """The best of ours in `Accept-Language` ("tr-TR,tr;q=0.9,en;q=0.8" → "tr"); None for none."""
    best = request.accept_languages.best_match(list(LANGUAGES))
    if best:
        return best
    # best_match wants an exact tag or a prefix of ours; "tr-TR" alone matches "tr", but say so.
    for tag, _quality in request.accept_languages:
        base = tag.split("-")[0].split("_")[0].lower()
        if base in LANGUAGES:
            return base
    return None


def select_language() -> str:
    """The language of this request (the order is in the module's docstring)."""
    if not has_request_context():
        return brand_language()
    return user_language() or browser_language() or brand_language()


def select_time_zone() -> str:
    """The zone of the location the request works at (set by the view in `g.location`), else the
    brand's (services/local_times.py reads the same, and is what screens use)."""
    return zone_name(g.get("location") if has_request_context() else None)


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else DEFAULT_LANGUAGE


def current_locale() -> Locale:
    return get_locale() or Locale.parse(DEFAULT_LANGUAGE)


# --- catalogues -------------------------------------------------------------------------------

_catalogues: dict[tuple[str, str], NullTranslations] = {}
_catalogues_lock = threading.Lock()


def po_path(language: str, directory: str = TRANSLATIONS_DIR) -> str:
    return os.path.join(directory, language, "LC_MESSAGES", f"{DOMAIN}.po")


def compile_catalogue(path: str) -> Translations:
    """A `.po` file as gettext translations, compiled in memory; fuzzy entries left out."""
    with open(path, "rb") as fh:
        catalogue = read_po(fh)
    buffer = io.BytesIO()
    write_mo(buffer, catalogue, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def translations_for(language: str, directory: str = TRANSLATIONS_DIR) -> NullTranslations:
    """The language's translations, compiled once per process (English is the source text)."""
    key = (directory, language)
    found = _catalogues.get(key)
    if found is not None:
        return found
    with _catalogues_lock:
        found = _catalogues.get(key)
        if found is None:
            path = po_path(language, directory)
            found = compile_catalogue(path) if os.path.exists(path) else NullTranslations()
            _catalogues[key] = found
    return found


class CatalogueDomain(Domain):
    """Flask-Babel's domain, reading our `.po` files (compiled in memory) instead of `.mo` files."""

    def get_translations(self):
        locale = get_locale()
        if locale is None:
            return NullTranslations()
        return translations_for(locale.language if locale.language in LANGUAGES else DEFAULT_LANGUAGE)

    # Every sentence said is told to `said.heard`, which remembers it only inside
    # `said.listening()` (a job storing reasons to be said later in the reader's language).
    def gettext(self, string, **variables):
        text = super().gettext(string, **variables)
        said.heard(text, string, variables)
        return text

    def ngettext(self, singular, plural, num, **variables):
        text = super().ngettext(singular, plural, num, **variables)
        said.heard(text, singular, variables, plural, num)
        return text


class PacklineBabel(Babel):
    @cached_property
    def domain_instance(self):
        return CatalogueDomain(domain=DOMAIN)


babel = PacklineBabel()


# --- formats ----------------------------------------------------------------------------------

def format_number(value: int | float | Decimal | None, digits: int | None = None) -> str:
    """1234.5 → "1,234.5" (en) / "1.234,5" (tr); `digits` fixes the decimals shown."""
    if value is None:
        return ""
    if digits is None:
        return babel_numbers.format_decimal(value, locale=current_locale())
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return babel_numbers.format_decimal(value, format=pattern, locale=current_locale(),
                                        decimal_quantization=True)


def format_money(amount: int | float | Decimal | None, currency: str | None = "TRY") -> str:
    """Decimal("1234.5"), "TRY" → "TRY 1,234.50" (en) / "₺1.234,50" (tr)."""
    if amount is None:
        return ""
    return babel_numbers.format_currency(amount, (currency or "TRY").upper(), locale=current_locale())


def format_percent(value: float | Decimal | None) -> str:
    return "" if value is None else babel_numbers.format_percent(value, locale=current_locale())


def lower(text: str) -> str:
    """Lower-case for the middle of a sentence, by the request's language: Turkish lowers I to ı
    and İ to i ("İptal edildi" → "iptal edildi"), where Python's lower() would give "i̇ptal"."""
    if current_language() == "tr":
        text = text.replace("I", "ı").replace("İ", "i")
    return text.lower()


ROLE_LABELS = {"admin": _l("Admin"), "supervisor": _l("Supervisor"), "staff": _l("Store staff")}


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def template_helpers() -> dict[str, Any]:
    return {
        "role_label": role_label,
        "lower": lower,
        "LANGUAGES": LANGUAGES,
        "current_language": current_language,
        "format_number": format_number,
        "format_money": format_money,
        "format_percent": format_percent,
    }


def init_app(app: Flask) -> None:
    """Flask-Babel with our selectors; `_()`, `ngettext()` and the format helpers in every template
    (times and days: `local_time`, `local_date` and `planned_day` from services/local_times.py)."""
    # WTForms' messages stay English inside the forms: `human_input.say` (the `plain_words` filter
    # every form error goes through) turns them into our words in the page's language.
    app.config["WTF_I18N_ENABLED"] = False
    babel.init_app(app, default_locale=DEFAULT_LANGUAGE, default_translation_directories=TRANSLATIONS_DIR,
                   locale_selector=select_language, timezone_selector=select_time_zone)
    app.jinja_env.globals.update(template_helpers(), local_time=show_time, local_date=show_date,
                                 planned_day=show_planned)
    app.jinja_env.filters.update(number=format_number, money=format_money, field_label=field_label)


# --- catalogue checks (the completeness test and `make i18n` use these) -----------------------

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEYWORDS = {"_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}


def extracted_messages(root: str = ROOT) -> dict[str, str]:
    """Every translatable string in the code and templates (babel.cfg) → where it was first found."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with open(os.path.join(root, "babel.cfg"), encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            os.path.join(root, "app"), method_map, options_map, keywords={**DEFAULT_KEYWORDS, **KEYWORDS}):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, f"app/{filename}:{lineno}")
    return found


def catalogue_problems(directory: str = TRANSLATIONS_DIR, root: str = ROOT) -> list[str]:
    """What keeps the catalogues from being complete: strings the code uses that a catalogue lacks,
    Turkish entries without a translation, fuzzy entries. Empty when all is well."""
    problems: list[str] = []
    used = extracted_messages(root)
    for language in LANGUAGES:
        path = po_path(language, directory)
        if not os.path.exists(path):
            problems.append(f"{language}: no catalogue at {os.path.relpath(path, root)} (run make i18n)")
            continue
        with open(path, "rb") as fh:
            catalogue = read_po(fh)
        for msgid, where in sorted(used.items()):
            if msgid not in catalogue:
                problems.append(f"{language}: missing {msgid!r} ({where}; run make i18n)")
        for message in catalogue:
            if not message.id:
                continue
            text = message.id[0] if isinstance(message.id, tuple) else message.id
            if message.fuzzy:
                problems.append(f"{language}: fuzzy {text!r} (check the translation, then remove the fuzzy flag)")
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if language != DEFAULT_LANGUAGE and not all(strings):
                problems.append(f"{language}: untranslated {text!r}")
    return problems


def report() -> None:
    """`make i18n` ends with this: what still needs a translation (the test fails on the same)."""
    found = catalogue_problems()
    for line in found:
        print(line)
    print(f"{len(found)} catalogue problem(s)" if found else "Catalogues complete: every string has English and Turkish.")
