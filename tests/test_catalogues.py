"""The catalogues are complete (SPEC §15): every string the code and templates mark for translation
is in the English and Turkish catalogues, every Turkish entry is translated, none is fuzzy."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po, write_po

from app.i18n import LANGUAGES, catalogue_problems, compile_catalogue, po_path, translations_for

ROOT = Path(__file__).resolve().parents[1]


def test_every_marked_string_is_in_both_catalogues_translated_and_not_fuzzy():
    problems = catalogue_problems()
    assert problems == [], "run `make i18n` and translate (docs/languages.md):\n" + "\n".join(problems[:80])


def _copy_catalogues(tmp_path: Path) -> Path:
    directory = tmp_path / "translations"
    for language in LANGUAGES:
        target = Path(po_path(language, str(directory)))
        target.parent.mkdir(parents=True)
        target.write_bytes(Path(po_path(language)).read_bytes())
    return directory


def _edit(path: str, change) -> None:
    with open(path, "rb") as fh:
        catalogue = read_po(fh)
    change(catalogue)
    with open(path, "wb") as fh:
        write_po(fh, catalogue, width=None)


def test_the_check_fails_on_a_missing_an_untranslated_and_a_fuzzy_entry(tmp_path):
    directory = _copy_catalogues(tmp_path)
    turkish = po_path("tr", str(directory))

    def spoil(catalogue):
        catalogue.delete("Sign out")
        catalogue["Username"].string = ""
        catalogue["Password"].flags.add("fuzzy")

    _edit(turkish, spoil)
    problems = catalogue_problems(str(directory), str(ROOT))
    assert any(p.startswith("tr: missing 'Sign out'") for p in problems)
    assert "tr: untranslated 'Username'" in problems
    assert any(p.startswith("tr: fuzzy 'Password'") for p in problems)
    # A fuzzy translation is never shown: the English text is.
    assert compile_catalogue(turkish).gettext("Password") == "Password"


def test_the_turkish_catalogue_translates_and_keeps_placeholders():
    turkish = translations_for("tr")
    assert turkish.gettext("Sign out") == "Çıkış yap"
    with open(po_path("tr"), "rb") as fh:
        catalogue = read_po(fh)
    placeholder = re.compile(r"%\((\w+)\)[sd]")
    for message in catalogue:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(placeholder.findall(ids[-1]))
        for text in strings:
            assert set(placeholder.findall(text)) <= wanted | set(placeholder.findall(ids[0])), (
                f"{ids[0]!r}: the translation {text!r} names a value the English does not have")
            assert wanted <= set(placeholder.findall(text)) or len(ids) > 1, (
                f"{ids[0]!r}: the translation {text!r} leaves out {wanted - set(placeholder.findall(text))}")


# --- visible text in templates that is not marked for translation ---------------------------

TEMPLATES = ROOT / "app" / "templates"
# Areas whose every visible text goes through _(); the check covers each as it is done.
CHECKED_AREAS = ("base.html", "_language_switch.html", "auth", "errors", "store", "admin", "supervisor")
# Text that is the same in every language.
NOT_WORDS = re.compile(r"^[\W\d_]*(Packline|[A-Z]{2,5}|&\w+;|https?://\S*)?[\W\d_]*$")
VISIBLE_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt", "data-confirm", "value")


def unmarked_text(source: str) -> list[str]:
    """Visible words in a template outside {{ }}, {% %} and {# #}: text between tags, and the
    attributes people read (placeholder, title, aria-label, alt, data-confirm, button values)."""
    text = re.sub(r"\{#.*?#\}|<!--.*?-->|<script.*?</script>|<style.*?</style>", " ", source, flags=re.S)
    text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "\x00", text, flags=re.S)
    found = []
    for name, value in re.findall(r'\s([\w-]+)="([^"]*)"', text):
        if name in VISIBLE_ATTRIBUTES and not (name == "value" and "\x00" in value):
            words = value.replace("\x00", " ").strip()
            if name == "value" and re.fullmatch(r"[\w.-]*", words):
                continue  # a form value for the program (on, yes, 1, a code), not a word for people
            if words and not NOT_WORDS.match(words) and re.search(r"[A-Za-z]{2}", words):
                found.append(f'{name}="{words}"')
    between = re.sub(r"<[^>]*>", "\x00", text)
    for piece in between.split("\x00"):
        words = " ".join(piece.split())
        if re.fullmatch(r'(\s*[\w-]+="[^"]*"?)+', words):
            continue  # attributes written by a block ({% block body_attrs %}), not text
        if words and re.search(r"[A-Za-z]{2}", words) and not NOT_WORDS.match(words):
            found.append(words)
    return found


def test_every_visible_text_in_the_checked_templates_is_marked_for_translation():
    problems = {}
    for area in CHECKED_AREAS:
        path = TEMPLATES / area
        for template in sorted([path] if path.is_file() else path.rglob("*.html")):
            found = unmarked_text(template.read_text(encoding="utf-8"))
            if found:
                problems[str(template.relative_to(ROOT))] = found
    assert problems == {}, "wrap these in {{ _('…') }} (docs/languages.md):\n" + "\n".join(
        f"{name}: {found}" for name, found in problems.items())


def test_the_template_check_finds_unmarked_words():
    assert unmarked_text("<h1>Packages</h1><p>{{ _('Fine') }}</p>") == ["Packages"]
    assert unmarked_text('<input placeholder="Search here"><button value="on">') == ['placeholder="Search here"']
    assert unmarked_text("<p>{{ n }} · {{ _('x') }} — Packline</p>{# Note to self #}") == []


def test_no_marked_string_hides_inside_another_ones_arguments():
    """Babel does not extract a _() written inside another _() call's arguments, so such a string
    never reaches the catalogues and shows in English on every Turkish screen (the planning trace's
    "short by" did)."""
    import ast

    markers = {"_", "gettext", "ngettext", "_l", "lazy_gettext", "lazy_ngettext", "N_"}
    hidden = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in markers):
                continue
            for inner in ast.walk(node):
                if (inner is not node and isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name)
                        and inner.func.id in markers and inner.args and isinstance(inner.args[0], ast.Constant)):
                    hidden.append(f"{path.relative_to(ROOT)}:{inner.lineno}: {inner.args[0].value!r}")
    assert hidden == [], "say these apart from the sentence they go in:\n" + "\n".join(hidden)
