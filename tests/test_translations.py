"""The zh-hans catalog: complete (no empty or fuzzy entry, placeholders kept), up to date with the
code (a newly marked string without its translation fails), and pages rendered in Chinese carry
no English msgid of the project.

The .po is parsed here without polib; msgfmt (GNU gettext) checks it too and compiles it into a
temporary locale directory, so these tests do not depend on a .mo built earlier by make.
"""

import ast
import re
import shutil
import subprocess
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

BASE_DIR = Path(settings.BASE_DIR)
LOCALE_DIR = BASE_DIR / "locale"
CATALOGS = {"zh_Hans": ["django"]}
# Any gettext in JavaScript would need a djangojs catalog; the project has none today, and the
# up-to-date test fails as soon as a JS file marks a string.
DOMAINS = ["django", "djangojs"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sdrif]|%[sdrif]|\{\w*\}")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def po_entries(path):
    """The entries of a .po file: dicts with ctxt, id, id_plural, strs (list) and flags."""
    entries, current, field = [], None, None

    def close():
        if current is not None and "id" in current:
            entries.append(current)

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            close()
            current, field = None, None
            continue
        if current is None:
            current = {"flags": set(), "strs": {}}
        if line.startswith("#,"):
            current["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(field, int):
                current["strs"][field] += value
            else:
                current[field] += value
        else:
            keyword, _, literal = line.partition(" ")
            value = ast.literal_eval(literal)
            if keyword.startswith("msgstr"):
                field = int(keyword[7:-1]) if "[" in keyword else 0
                current["strs"][field] = value
            else:
                field = {"msgctxt": "ctxt", "msgid": "id", "msgid_plural": "id_plural"}[keyword]
                current[field] = value
    close()
    return [entry for entry in entries if entry["id"]]  # the header has the empty msgid


def entry_key(entry):
    return (entry.get("ctxt"), entry["id"], entry.get("id_plural"))


def committed_po(locale, domain):
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{domain}.po"


def makefile_list(name):
    """A space-separated variable of the Makefile (one source for make and these tests)."""
    match = re.search(rf"^{name} := (.*)$", (BASE_DIR / "Makefile").read_text(), re.MULTILINE)
    assert match, f"the Makefile defines {name}"
    return match.group(1).split()


def msgfmt(*args):
    program = shutil.which("msgfmt")
    if program is None:
        pytest.fail("msgfmt (GNU gettext) is needed: apt-get install gettext")
    return subprocess.run([program, *args], capture_output=True, text=True, check=False)


def catalog_problems(entries):
    """Why each entry is not a finished translation (empty, fuzzy, placeholders or tags differ)."""
    problems = []
    for entry in entries:
        label = repr(entry["id"][:60])
        strs = [entry["strs"].get(i, "") for i in range(max(entry["strs"], default=0) + 1)]
        if "fuzzy" in entry["flags"]:
            problems.append(f"{label}: fuzzy")
        if not all(strs):
            problems.append(f"{label}: untranslated")
            continue
        source = entry.get("id_plural", entry["id"])  # nplurals=1: msgstr[0] is the plural
        for text in strs:
            for pattern, what in [(PLACEHOLDER, "placeholders"), (TAG, "HTML tags")]:
                if sorted(pattern.findall(text)) != sorted(pattern.findall(source)):
                    problems.append(f"{label}: {what} differ in {text!r}")
            if text.endswith("\n") != entry["id"].endswith("\n"):
                problems.append(f"{label}: trailing newline differs")
    return problems


@pytest.mark.parametrize(
    ("locale", "domain"), [(lo, do) for lo, domains in CATALOGS.items() for do in domains]
)
def test_catalog_has_no_untranslated_fuzzy_or_broken_entry(locale, domain):
    path = committed_po(locale, domain)
    entries = po_entries(path)
    assert len(entries) > 1000, "the catalog holds the project's strings"
    assert catalog_problems(entries) == []
    checked = msgfmt("--check", "--statistics", "-o", "/dev/null", str(path))
    assert checked.returncode == 0, checked.stderr
    statistics = checked.stderr.strip().splitlines()[-1]
    assert statistics == f"{len(entries)} translated messages.", statistics
    header = path.read_text(encoding="utf-8").split("\n\n", 1)[0]
    assert "#, fuzzy" not in header  # msgfmt would drop a fuzzy header, and Plural-Forms with it
    assert '"Plural-Forms: nplurals=1; plural=0;\\n"' in header


def test_the_checks_catch_an_empty_a_fuzzy_and_a_broken_entry(tmp_path):
    broken = tmp_path / "django.po"
    broken.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Grant #%(id)d revoked"\nmsgstr ""\n\n'
        '#, fuzzy\nmsgid "Dispute"\nmsgstr "争议"\n\n'
        '#, python-format\nmsgid "Grant #%(id)d suspended"\nmsgstr "使用授权 #%(g)d 已暂停"\n',
        encoding="utf-8",
    )
    assert catalog_problems(po_entries(broken)) == [
        "'Grant #%(id)d revoked': untranslated",
        "'Dispute': fuzzy",
        "'Grant #%(id)d suspended': placeholders differ in '使用授权 #%(g)d 已暂停'",
    ]
    assert msgfmt("--check", "-o", "/dev/null", str(broken)).returncode != 0


def test_catalog_is_up_to_date_with_the_code(tmp_path, monkeypatch):
    """makemessages over a copy of the sources, into an empty locale directory: the msgids it
    finds are exactly those of the committed catalogs (so a new marked string fails CI until it
    is extracted and translated, and a removed one until it is dropped)."""
    ignored = makefile_list("I18N_IGNORE")
    skip = shutil.ignore_patterns(*ignored, "locale", ".git", "__pycache__", "*.pyc", "*.mo")
    sources = tmp_path / "src"
    shutil.copytree(BASE_DIR, sources, ignore=skip)
    monkeypatch.chdir(sources)
    with override_settings(LOCALE_PATHS=[sources / "locale"]):
        for domain in DOMAINS:
            call_command(
                "makemessages",
                locale=list(CATALOGS),
                domain=domain,
                ignore_patterns=ignored,
                no_obsolete=True,
                verbosity=0,
            )
    for locale in CATALOGS:
        for domain in DOMAINS:
            fresh = sources / "locale" / locale / "LC_MESSAGES" / f"{domain}.po"
            committed = committed_po(locale, domain)
            in_code = {entry_key(e) for e in po_entries(fresh)} if fresh.exists() else set()
            in_po = {entry_key(e) for e in po_entries(committed)} if committed.exists() else set()
            assert sorted(in_code - in_po, key=str) == [], "run `make messages` and translate"
            assert sorted(in_po - in_code, key=str) == [], "run `make messages` (obsolete)"
    assert {(locale, "django") for locale in CATALOGS} <= {
        (path.parent.parent.name, path.stem) for path in LOCALE_DIR.glob("*/LC_MESSAGES/*.po")
    }


@pytest.fixture
def compiled_locale(tmp_path):
    """LOCALE_PATHS pointing at the committed .po files compiled just now."""
    for path in LOCALE_DIR.glob("*/LC_MESSAGES/*.po"):
        target = tmp_path / path.relative_to(LOCALE_DIR).with_suffix(".mo")
        target.parent.mkdir(parents=True, exist_ok=True)
        result = msgfmt("--check-format", "-o", str(target), str(path))
        assert result.returncode == 0, result.stderr
    with override_settings(LOCALE_PATHS=[tmp_path]):
        yield tmp_path


class VisibleText(HTMLParser):
    """Text a reader sees or hears: text nodes outside script/style, and the attributes shown
    or read out (title, aria-label, placeholder, alt, button values)."""

    SHOWN_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.segments = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style"}:
            self.hidden += 1
        values = dict(attrs)
        for name, value in attrs:
            if value and (
                name in self.SHOWN_ATTRIBUTES
                or (name == "value" and values.get("type") in {"submit", "button", "reset"})
            ):
                self.segments.append(value)

    def handle_endtag(self, tag):
        if tag in {"script", "style"}:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden and data.strip():
            self.segments.append(data)


def visible_segments(html):
    parser = VisibleText()
    parser.feed(html)
    return [" ".join(segment.split()) for segment in parser.segments]


def english_msgids():
    """The project's msgids whose translation differs from the English (so English on a Chinese
    page means a string the catalog or the code misses), each as a pattern with its
    placeholders as wildcards, and whether it may be searched inside longer text."""
    patterns = []
    for locale, domains in CATALOGS.items():
        for domain in domains:
            for entry in po_entries(committed_po(locale, domain)):
                for english in filter(None, [entry["id"], entry.get("id_plural")]):
                    if english in entry["strs"].values():
                        continue  # the same in both languages (API, SHA-256, English)
                    literal = PLACEHOLDER.sub(" ", english)
                    words = re.findall(r"[A-Za-z]{2,}", literal)
                    if not words or (
                        # one short word between placeholders ("%(a)s to %(b)s") matches data
                        len(words) == 1 and len(words[0]) < 4 and literal.strip() != english
                    ):
                        continue
                    parts = [re.escape(re.sub(r"\s+", " ", p)) for p in PLACEHOLDER.split(english)]
                    pattern = re.compile(".+?".join(parts))
                    # Short msgids ("legal basis") occur inside English data, so they must be a
                    # whole segment; four words or more are looked for anywhere in the text.
                    patterns.append((english, pattern, len(words) >= 4))
    return patterns


def english_left(html):
    """The msgids of the project found in English in the page's visible text."""
    segments = visible_segments(html)
    text = " ".join(segments)
    parts = [part for segment in segments for part in re.split(r" · | — ", segment)]
    found = set()
    for english, pattern, searchable in english_msgids():
        whole = any(pattern.fullmatch(part.strip(" :：·()（）*")) for part in parts)
        if whole or (searchable and pattern.search(text)):
            found.add(english)
    return sorted(found)


NAVIGATION_ZH = ["数据目录", "共享申请", "审核队列", "使用授权", "质量异议", "需求清单", "争议"]


def test_catalog_page_for_a_steward_is_in_chinese(client, steward, released, compiled_locale):
    client.force_login(steward)
    response = client.get(reverse("catalog:resource_list"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    nav = html.split('<nav aria-label="主导航">', 1)[1].split("</nav>", 1)[0]
    assert [label for label in NAVIGATION_ZH if label not in visible_segments(nav)] == []
    assert "退出登录" in visible_segments(html)
    assert "Vaccination records" in visible_segments(html)  # the data itself stays as entered
    assert english_left(html) == []


LIST_PAGES = [
    "home",
    "catalog:resource_list",
    "access_requests:request_list",
    "access_requests:request_queue",
    "grants:grant_list",
    "governance:quality_list",
    "governance:demand_list",
    "disputes:dispute_list",
    "attestations:attestation_list",
    "audit:search",
    "public_register",
    "scoreboard",
]


def demo_world_pages():
    """Every list page, and the detail page of every object of the demo world."""
    from access_requests.models import Request
    from catalog.models import Resource
    from governance.models import Demand, Dispute, QualityReport
    from rights.models import Attestation, Grant

    urls = [reverse(name) for name in LIST_PAGES]
    for model in [Resource, Request, Grant, Attestation, QualityReport, Demand, Dispute]:
        urls += [obj.get_absolute_url() for obj in model.objects.order_by("pk")]
    # Each grant's data-sharing agreement, the page the two departments sign.
    urls += [
        reverse("agreements:agreement_detail", args=[pk])
        for pk in Grant.objects.order_by("pk").values_list("pk", flat=True)
    ]
    return urls


def without_stored_notifications(html):
    return re.sub(r'<ul class="activity-list">.*?</ul>', "", html, flags=re.S)


@pytest.mark.parametrize("username", ["office", "auditor", "health_steward", "civil_clerk"])
def test_demo_world_pages_have_no_english_msgid(client, db, compiled_locale, username):
    """Notifications are left out: their text is stored when they are sent (in the language of
    that moment), so the demo's, seeded in English, stay English — on the home page too, whose
    recent activity lists them (the list itself, not its heading, is cut from the page)."""
    call_command("seed_demo", rows=30, stdout=StringIO())
    client.force_login(get_user_model().objects.get(username=username))
    shown, left = 0, {}
    for url in demo_world_pages():
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans", follow=True)
        if response.status_code in (403, 404):
            continue  # not this persona's to see (the permission tests cover which)
        assert response.status_code == 200, url
        shown += 1
        if english := english_left(without_stored_notifications(response.content.decode())):
            left[url] = english
    assert shown >= 12
    assert left == {}


def test_the_english_detector_finds_the_english_page(client, steward, released, compiled_locale):
    client.force_login(steward)
    response = client.get(reverse("catalog:resource_list"), HTTP_ACCEPT_LANGUAGE="en")
    left = english_left(response.content.decode())
    assert {"Catalog", "Review queue", "Skip to main content", "Search the catalog"} <= set(left)
