"""The catalogues are complete (SPEC §15): every string the code and templates mark for translation
is in the English and Turkish catalogues, every Turkish entry is translated, none is fuzzy."""

from __future__ import annotations

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
    import re

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
