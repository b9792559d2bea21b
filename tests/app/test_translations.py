"""The Japanese catalogue covers every UI string, and the app really uses it.

Messages are extracted from the source the way `scripts/i18n.sh` does
(babel.cfg's method map, keyword `_l` added), so a string added without a
translation fails here, not in front of a resident.  The compiled catalogue
(.mo) is a build product: it is compiled here when missing or stale.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = PROJECT_ROOT / "madoguchi" / "translations"
PO_FILE = TRANSLATIONS / "ja" / "LC_MESSAGES" / "messages.po"
MO_FILE = PO_FILE.with_suffix(".mo")
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None}  # `pybabel extract -k _l`

# %(name)s, %(num)d, %(amount).2f...
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]")


def load_catalog() -> Catalog:
    with PO_FILE.open("rb") as f:
        return read_po(f, locale="ja")


def extracted_messages() -> dict[str | tuple[str, ...], list[str]]:
    """Every msgid in the source (plurals as tuples), with where it appears."""
    with (PROJECT_ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")
    found: dict[str | tuple[str, ...], list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        PROJECT_ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        key = tuple(message) if isinstance(message, (list, tuple)) else message
        found.setdefault(key, []).append(f"{filename}:{lineno}")
    return found


def translations_of(message: Message) -> list[str]:
    strings = message.string
    if isinstance(strings, (list, tuple)):
        return [s or "" for s in strings]
    return [strings or ""]


def placeholders(text: str) -> set[str]:
    return {m.group(0) for m in PLACEHOLDER.finditer(text)}


@pytest.fixture(scope="session")
def compiled_catalogue(migrated_app: Flask) -> Path:
    """The .mo next to the .po, compiled when missing or older than the .po."""
    if not MO_FILE.exists() or MO_FILE.stat().st_mtime < PO_FILE.stat().st_mtime:
        catalog = load_catalog()
        # Written beside the target and renamed: a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=MO_FILE.parent, suffix=".mo.tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                write_mo(f, catalog, use_fuzzy=False)
            Path(tmp).chmod(0o644)  # mkstemp's 0600 would hide it from a web server
            Path(tmp).replace(MO_FILE)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        # Flask-Babel caches the catalogue per locale for the app's lifetime; an
        # earlier test may have cached the stale (or empty) one.
        with migrated_app.app_context():
            migrated_app.extensions["babel"].instance.domain_instance.cache.clear()
    return MO_FILE


def test_every_message_in_the_source_has_a_japanese_translation() -> None:
    catalog = load_catalog()
    missing = []
    for msgid, where in sorted(extracted_messages().items(), key=lambda item: item[1][0]):
        singular = msgid[0] if isinstance(msgid, tuple) else msgid
        entry = catalog.get(singular)
        if entry is None:
            problem = "not in the .po (run scripts/i18n.sh)"
        elif isinstance(msgid, tuple) and entry.id != msgid:
            problem = "plural form changed (run scripts/i18n.sh)"
        elif entry.fuzzy:
            problem = "fuzzy"
        elif not all(s.strip() for s in translations_of(entry)):
            problem = "untranslated"
        else:
            continue
        missing.append(f"{problem}: {singular!r} ({', '.join(where[:3])})")
    assert not missing, (
        f"{len(missing)} message(s) without a Japanese translation in "
        f"{PO_FILE.relative_to(PROJECT_ROOT)}:\n" + "\n".join(missing)
    )


def test_translations_keep_the_placeholders_of_the_english() -> None:
    wrong = []
    for message in load_catalog():
        if not message.id:
            continue
        ids = list(message.id) if isinstance(message.id, (list, tuple)) else [message.id]
        expected = set().union(*(placeholders(i) for i in ids))
        for translation in translations_of(message):
            if not translation:
                continue
            if placeholders(translation) != expected:
                wrong.append(
                    f"{ids[0]!r}: {sorted(placeholders(translation))} != {sorted(expected)}"
                )
            elif message.python_format and "%" in PLACEHOLDER.sub("", translation).replace(
                "%%", ""
            ):
                wrong.append(f"{ids[0]!r}: stray % in {translation!r} (write %% for a percent)")
    assert not wrong, "translations whose placeholders differ from the msgid:\n" + "\n".join(wrong)


@pytest.mark.usefixtures("compiled_catalogue", "published")
def test_the_catalogue_page_in_japanese_uses_the_compiled_catalogue(client: FlaskClient) -> None:
    catalog = load_catalog()
    search = translations_of(catalog["Search"])[0]
    heading = translations_of(catalog["Procedures you can file online"])[0]
    html = client.get("/?lang=ja").get_data(as_text=True)
    assert '<html lang="ja">' in html
    assert f'<button type="submit">{search}</button>' in html
    assert f"<h1>{heading}</h1>" in html
    assert ">Search</button>" not in html


@pytest.mark.usefixtures("compiled_catalogue", "published")
def test_the_catalogue_page_in_english_shows_the_msgids(client: FlaskClient) -> None:
    search = translations_of(load_catalog()["Search"])[0]
    html = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert '<button type="submit">Search</button>' in html
    assert "<h1>Procedures you can file online</h1>" in html
    assert search not in html
