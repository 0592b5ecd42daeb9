"""Every string of the interface is translated: the catalogs are extracted again from the
templates, the Python code and static/js (`make translations`, into a copy of locale/), and each
entry of each language must have a translation that is neither empty nor fuzzy and keeps the
msgid's placeholders."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("zh_Hans", "ja")
DOMAINS = ("django", "djangojs")
IGNORED = (".venv", "node_modules", "staticfiles", "tests", "bench")
# Not copied: what makemessages ignores, and what it never reads.
SKIPPED = (*IGNORED, ".git", "docs", "*.mo", "__pycache__", "*.sqlite3*", ".*_cache")
PLACEHOLDER = re.compile(r"%\(\w+\)s|%[sd]")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """locale/ after `makemessages` for both domains, as `make translations` would write it, in
    a copy of the sources (makemessages writes next to the files it reads)."""
    copy = tmp_path_factory.mktemp("translations") / "source"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*SKIPPED), symlinks=False)
    args = [arg for lang in LANGUAGES for arg in ("-l", lang)] + ["--no-obsolete"]
    args += [f"--ignore={name}" for name in IGNORED]
    for extra in (["-e", "html,py"], ["-d", "djangojs"]):
        subprocess.run(
            [sys.executable, "manage.py", "makemessages", *args, *extra, "-v0"],
            cwd=copy,
            check=True,
            timeout=300,
        )
    return copy / "locale"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_every_string_has_a_translation(extracted: Path, language: str, domain: str) -> None:
    catalog = polib.pofile(str(extracted / language / "LC_MESSAGES" / f"{domain}.po"))
    entries = [entry for entry in catalog if not entry.obsolete]
    assert entries, "no strings extracted"
    missing = [entry.msgid for entry in entries if not entry.translated()]
    assert missing == [], f"{len(missing)} untranslated in {language}/{domain}.po: run `make translations`"
    fuzzy = [entry.msgid for entry in entries if "fuzzy" in entry.flags]
    assert fuzzy == []
    for entry in entries:
        forms = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        for form in forms:
            assert sorted(PLACEHOLDER.findall(form)) == sorted(PLACEHOLDER.findall(entry.msgid)), entry.msgid


def test_the_committed_catalogs_hold_every_string(extracted: Path) -> None:
    """A string added to the code without `make translations` fails here too, by name."""
    for language in LANGUAGES:
        for domain in DOMAINS:
            committed = {
                entry.msgid
                for entry in polib.pofile(str(ROOT / "locale" / language / "LC_MESSAGES" / f"{domain}.po"))
            }
            fresh = {
                entry.msgid
                for entry in polib.pofile(str(extracted / language / "LC_MESSAGES" / f"{domain}.po"))
            }
            assert sorted(fresh - committed) == [], f"not in locale/{language}/LC_MESSAGES/{domain}.po"
