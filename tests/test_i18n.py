"""Every user-visible string has a Swedish translation, and the compiled catalogue matches the source."""
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "translations/sv/LC_MESSAGES/messages.po"
MO = ROOT / "translations/sv/LC_MESSAGES/messages.mo"


def catalog_ids(catalog):
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [str(pybabel), "-q", "extract", "-F", "babel.cfg", "-k", "_l", "-o", str(pot), "."],
        cwd=ROOT, check=True,
    )
    with pot.open("rb") as handle:
        return read_po(handle)


def test_every_message_in_the_code_is_in_the_swedish_catalogue(extracted):
    with PO.open("rb") as handle:
        swedish = catalog_ids(read_po(handle))
    missing = sorted(catalog_ids(extracted) - swedish)
    assert not missing, f"run `flask translations update` and translate: {missing}"


def test_every_template_that_uses_gettext_is_extracted(extracted):
    """A template the extractor cannot parse yields no messages, silently; this makes it loud."""
    located = {Path(path).as_posix() for m in extracted for path, _line in m.locations}
    using = {p.relative_to(ROOT).as_posix() for p in (ROOT / "templates").rglob("*.html") if "_(" in p.read_text()}
    assert using <= located, sorted(using - located)


def test_every_swedish_message_is_translated_and_not_fuzzy():
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    untranslated = [m.id for m in catalog if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated, untranslated
    assert not fuzzy, fuzzy


def frozen(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value


def test_compiled_catalogue_is_not_stale():
    with PO.open("rb") as handle:
        source = {frozen(m.id): frozen(m.string) for m in read_po(handle) if m.id}
    with MO.open("rb") as handle:
        compiled = {frozen(m.id): frozen(m.string) for m in read_mo(handle) if m.id}
    assert compiled == source, "run `flask translations compile`"


def test_placeholders_survive_translation():
    import re

    with PO.open("rb") as handle:
        catalog = read_po(handle)
    pattern = re.compile(r"%\(\w+\)[sd]")
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(pattern.findall(ids[-1]))
        for string in strings:
            assert set(pattern.findall(string)) == wanted, message.id


@pytest.mark.parametrize("url", ["/runs", "/employees", "/employees/new", "/solutions"])
def test_pages_have_no_english_left_in_swedish(as_admin, lang, url):
    from tests.conftest import text

    page = text(as_admin.get(url))
    english = ["Payroll runs", "Employees", "More Solutions", "Log out", "Add employee", "Save", "Month"]
    if lang == "sv":
        assert not [word for word in english if word in page]
    else:
        assert "Payroll runs" in page and "Lönekörningar" not in page
