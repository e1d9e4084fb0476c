"""Leak tests (issue 4), in AppTest: nothing of one district reaches another district's
leader, no name or SSID reaches a COE coordinator, data is never rendered as HTML, CSV
downloads are formula-safe, and a demo visitor never reads real data.

One district of a copy of the demo drops carries unique markers (``tests/markers.py``). The
tests visit every page a persona may open, try every option of every widget on the page
(and of the sidebar filters), open links naming the marked district, and collect ALL the
text the AppTest tree exposes: titles, markdown, captions, metrics, widget labels and
options, every dataframe cell, every Plotly figure's JSON and the bytes of every download
button. The browser side of the same checks is in ``test_browser.py``.

Every AppTest run goes through ``app.py``, its gate, its sidebar and its navigation: the page
files live in ``app_pages/``, a folder Streamlit does not run on its own (see ``ui.shell``).
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import pandas as pd
import pytest
from google.protobuf import text_format
from markers import (
    CODE_RE,
    FORMULA_COLLEGE,
    MARKED_DISTRICT,
    MARKED_DISTRICT_NAME,
    MARKED_SCHOOL,
    MARKED_SCHOOL_NAME,
    MARKER,
    NEUTRALISED_COLLEGE,
    OTHER_DISTRICT,
    XSS,
    latest_students,
    marked_data,  # noqa: F401  (fixture)
    roster_identifiers,
)
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.state.common import TESTING_KEY
from streamlit.testing.v1 import AppTest

from ccgi_dash.scope import Scope
from ccgi_dash.store import DataDir
from ccgi_dash.ui import data, filters, shell
from ccgi_dash.ui.session import IDENTITY_KEY

from conftest import ROOT, demo_app, reveal, user_app

PAGES = list(shell.PAGES)
"""Every declared page; ``test_every_declared_page_has_its_file`` fails loudly when one
file is missing (no page is left out of these tests silently)."""
STUDENT_LEVEL = [s for s in PAGES if s.needs == "student_level"]
FILTER_KEYS = tuple(filters.KEYS.values())
"""The sidebar filters' widget keys (as_of, district, school, grade, every student group)."""
PAGE_WIDGETS = ("selectbox", "radio", "button_group")
EVERY_FILTER_ON = ("app_pages/overview.py", "app_pages/students.py")
"""Pages tried with every option of every sidebar filter, one at a time (the filters are
the shell's, the same on every page; the other pages try one option of each filter, a
different one per page)."""
REFUSAL = "were not applied"
"""Words of the notice naming the values of a link that were refused."""
LINK = {"district": MARKED_DISTRICT, "school": MARKED_SCHOOL}


# --------------------------------------------------------------------------- app harness

def test_every_declared_page_has_its_file():
    """A declared page without its file fails here, and in the navigation (``page_file``)."""
    missing = [s.path for s in shell.PAGES if not (ROOT / s.path).is_file()]
    assert not missing, f"declared pages without a file: {missing}"


DOWNLOADS: dict[str, bytes] = {}
"""URL of every file a download button registered -> its bytes (what the browser gets)."""
DEFERRED: dict[str, Callable[[], Any]] = {}
"""Id of every file a download button makes only when clicked -> the function making it."""


@pytest.fixture(scope="module", autouse=True)
def keep_downloads() -> Iterator[None]:
    """The bytes behind every download button are kept, as a browser would receive them."""
    add = MediaFileManager.add
    add_deferred = MediaFileManager.add_deferred

    def keep_add(self, path_or_data, mimetype, coordinates, file_name=None,
                 is_for_static_download=False) -> str:
        url = add(self, path_or_data, mimetype, coordinates, file_name,
                  is_for_static_download)
        if isinstance(path_or_data, bytes):
            DOWNLOADS[url] = path_or_data
        return url

    def keep_add_deferred(self, data_callable, *args: Any, **kwargs: Any) -> str:
        file_id = add_deferred(self, data_callable, *args, **kwargs)
        DEFERRED[file_id] = data_callable
        return file_id

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(MediaFileManager, "add", keep_add)
        mp.setattr(MediaFileManager, "add_deferred", keep_add_deferred)
        yield


@pytest.fixture(scope="module")
def marked_env(marked_data, tmp_path_factory) -> Iterator[DataDir]:  # noqa: F811
    """The marked data set as the demo data; an empty real data directory beside it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CCGI_DEMO_DIR", str(marked_data.root))
        mp.setenv("CCGI_DATA_DIR", str(tmp_path_factory.mktemp("no-live-data")))
        mp.delenv("CCGI_USERS_FILE", raising=False)
        mp.delenv("CCGI_COOKIE_KEY", raising=False)
        yield marked_data


def walk(node: Any) -> Iterator[Any]:
    yield node
    for child in (getattr(node, "children", None) or {}).values():
        yield from walk(child)


def find(at: AppTest, key: str) -> Any | None:
    return next((n for n in walk(at._tree) if getattr(n, "key", None) == key), None)


def pick(at: AppTest, key: str, value: Any) -> AppTest:
    """Choose options of a widget by the labels it shows, as the browser sends them."""
    widget = find(at, key)
    assert widget is not None, f"no widget {key}"
    widget.root.session_state[TESTING_KEY][widget.id] = lambda v: v
    widget.set_value(value)
    return at.run()


def shown(widget: Any) -> list[str]:
    """The labels of a widget's current selection."""
    if widget.type == "multiselect":
        return list(widget.values)
    if widget.type == "button_group":
        return list(widget.formatted_values)
    return [widget.options[widget.index]] if widget.index is not None else []


# --------------------------------------------------------------------------- what is seen

@dataclass
class Seen:
    """Everything a persona was shown, labelled by where it was first seen (a text, table
    or file shown again on a later step is kept once)."""

    texts: list[tuple[str, str]] = field(default_factory=list)
    frames: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    csvs: list[tuple[str, bytes]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _known: set = field(default_factory=set, repr=False)

    def _new(self, key: object) -> bool:
        if key in self._known:
            return False
        self._known.add(key)
        return True

    def text(self, where: str, text: str) -> None:
        if self._new(("t", text)):
            self.texts.append((where, text))

    def add(self, at: AppTest, where: str) -> None:
        """What the page shows with every Table tab and folded detail opened (``reveal``):
        a reader can open each, so each is searched."""
        assert not at.exception, f"{where}: {[e.value for e in at.exception]}"
        reveal(at)
        assert not at.exception, f"{where}, opened: {[e.value for e in at.exception]}"
        for node in walk(at._tree):
            kind = getattr(node, "type", type(node).__name__)
            proto = getattr(node, "proto", None)
            label = f"{where} {kind} {getattr(node, 'key', '') or ''}".rstrip()
            if kind == "dataframe":
                frame = node.value
                rows = frame.itertuples(index=False)
                body = "\n".join([" | ".join(map(str, frame.columns)),
                                  *(" | ".join(map(str, row)) for row in rows)])
                if self._new(("f", body)):
                    self.frames.append((label, frame))
                    self.text(label, body)
                continue
            if kind == "plotly_chart":
                for s in json_strings(json.loads(proto.spec)):
                    self.text(label, s)
            if kind == "download_button":
                blob = download_bytes(proto)
                assert blob is not None, f"{label}: no data behind the button"
                if self._new(("c", blob)):
                    self.csvs.append((label, blob))
                    self.text(label + " csv", file_text(blob))
            if kind == "warning":
                self.warnings.append(node.value)
            if kind == "error":
                self.errors.append(node.value)
            if proto is not None:
                self.text(label, text_format.MessageToString(proto, as_utf8=True))
        self.text(f"{where} url", str(at.query_params))


def file_text(blob: bytes) -> str:
    """A downloaded file's text: a CSV's, or the text of a PDF (the Overview's brief)."""
    if blob.startswith(b"%PDF"):
        import io

        import pypdf

        return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(blob)).pages)
    return blob.decode("utf-8-sig")


def download_bytes(proto: Any) -> bytes | None:
    """The file a download button gives: registered with the page, or made on the click."""
    if proto.url:
        return DOWNLOADS.get(proto.url)
    make = DEFERRED.get(proto.deferred_file_id)
    if make is None:
        return None
    data = make()
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def raw_strings(obj: Any) -> Iterator[str]:
    """Every string in a decoded JSON document, keys included."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield str(k)
            yield from raw_strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from raw_strings(v)


def json_strings(obj: Any) -> Iterator[str]:
    """Every string of a JSON document, and its HTML-unescaped text (chart labels are
    escaped; Plotly shows the entities as the characters)."""
    for s in raw_strings(obj):
        yield s
        if "&" in s:
            yield html.unescape(s)


def leaks(seen: Seen) -> list[str]:
    """Where the marked district showed: its markers, its name, its codes. The notice that
    names the refused values of a link is the one place its codes may appear."""
    out = []
    for where, text in seen.texts:
        if MARKER in text:
            out.append(f"{where}: {MARKER} in {snippet(text, MARKER)!r}")
        if MARKED_DISTRICT_NAME in text:
            out.append(f"{where}: {MARKED_DISTRICT_NAME!r} in "
                       f"{snippet(text, MARKED_DISTRICT_NAME)!r}")
        m = CODE_RE.search(text)
        if m and REFUSAL not in text:
            out.append(f"{where}: the marked district's code in {snippet(text, m.group())!r}")
    return out


def snippet(text: str, needle: str, width: int = 80) -> str:
    i = text.find(needle)
    return text[max(0, i - width):i + len(needle) + width]


# --------------------------------------------------------------------------- visiting

Visit = Callable[[str], None]


def explore_page(at: AppTest, visit: Visit, explored: set[str] | None = None,
                 searches: tuple[str, ...] = ()) -> None:
    """Every option of every widget of the page (one at a time, the others at their
    defaults; a widget that appears with an option is explored under it)."""
    explored = set() if explored is None else explored
    for node in list(walk(at._tree.children[0])):
        key = getattr(node, "key", None)
        if not key or key in explored:
            continue
        if node.type == "text_input" and searches:
            explored.add(key)
            for text in searches:
                at.text_input(key=key).set_value(text).run()
                visit(f"{key}={text!r}")
            at.text_input(key=key).set_value("").run()
            continue
        if node.type not in PAGE_WIDGETS:
            continue
        explored.add(key)
        before = shown(node)
        for option in list(node.options):
            if [option] == before:
                continue
            pick(at, key, option)
            visit(f"{key}={option}")
            explore_page(at, visit, explored, searches)
        if before and find(at, key) is not None:
            pick(at, key, before[0])


def sweep_filters(at: AppTest, visit: Visit, turn: int, every: bool) -> None:
    """The sidebar filters: every option of every filter when ``every``, else one option of
    each filter (the ``turn``-th, so pages visited in turn try different ones)."""
    for key in FILTER_KEYS:
        widget = find(at, key)
        assert widget is not None, f"the sidebar has no filter {key}"
        before = shown(widget)
        options = [o for o in widget.options if [o] != before]
        for option in options if every else options[turn % len(options):][:1]:
            pick(at, key, option if key == "f_as_of" else [option])
            visit(f"{key}={option}")
        if shown(find(at, key)) != before:
            pick(at, key, before[0] if key == "f_as_of" else before)


def visit_pages(make: Callable[[], AppTest], seen: Seen, *, every_filter: bool = False,
                searches: tuple[str, ...] = (), sweep: bool = True) -> list[str]:
    """Open every page the persona may open, explore it, and return the paths of the pages
    the navigation refused."""
    refused = []
    for turn, spec in enumerate(PAGES):
        at = make()
        try:
            at.switch_page(spec.path).run()
        except ValueError:
            refused.append(spec.path)
            continue
        title = spec.title

        def visit(step: str, at: AppTest = at, title: str = title) -> None:
            seen.add(at, f"[{title}] {step}")

        visit("opened")
        explore_page(at, visit, searches=searches)
        if sweep:
            sweep_filters(at, visit, turn, every_filter)
    return refused


def allowed(persona_scope: Scope) -> list[str]:
    return [s.path for s in PAGES if s.allowed(persona_scope)]


# --------------------------------------------------------------------------- the marked data

def test_the_marked_district_sees_its_markers(marked_env):
    """The control: the marked values reach the pages of the marked district's own leader,
    so their absence elsewhere means something."""
    seen = Seen()
    visit_pages(lambda: demo_app(f"district:{MARKED_DISTRICT}"), seen, sweep=False)
    text = "\n".join(t for _, t in seen.texts)
    for value in ("ZQXMARK Career", "ZQXMARK Campus", MARKED_SCHOOL_NAME, FORMULA_COLLEGE):
        assert value in text, f"{value!r} is shown nowhere to its own district"


@pytest.mark.parametrize("spec", PAGES, ids=[s.title for s in PAGES])
def test_another_district_never_sees_the_marked_district(marked_env, spec):
    """A Fresno Unified leader, arriving by a link naming the marked district and school,
    on one page: every option of the page's widgets and of every sidebar filter, a search
    for the marked values, every download. Nothing of Clovis Unified shows."""
    roster = latest_students(marked_env)
    theirs = roster[roster["school_cds"].str[:7] == MARKED_DISTRICT].iloc[0]
    at = demo_app(f"district:{OTHER_DISTRICT}", query=LINK)
    try:
        at.switch_page(spec.path).run()
    except ValueError:
        assert spec.needs == "admin", f"{spec.path} is not open to a district leader"
        return
    seen = Seen()

    def visit(step: str) -> None:
        seen.add(at, f"[{spec.title}] {step}")

    visit("opened from the link")
    assert at.multiselect(key="f_district").value == []
    assert at.multiselect(key="f_school").value == []
    explore_page(at, visit, searches=(MARKER, theirs["ssid"],
                                      f"{theirs['first_name']} {theirs['last_name']}"))
    sweep_filters(at, visit, PAGES.index(spec), every=spec.path in EVERY_FILTER_ON)
    problems = leaks(seen)
    assert not problems, f"{len(problems)} leaks, first ones:\n" + "\n".join(problems[:15])


def test_a_link_naming_the_marked_district_is_refused_and_named(marked_env):
    """The filters of a link outside the user's access are dropped, and a notice names
    them (filters.py), without showing any of the marked district's data."""
    at = demo_app(f"district:{OTHER_DISTRICT}", query=LINK)
    seen = Seen()
    seen.add(at, "landing")
    assert not leaks(seen)
    assert at.multiselect(key="f_district").value == []
    assert MARKED_DISTRICT not in str(at.query_params)
    notices = [w for w in seen.warnings if REFUSAL in w]
    assert notices, ("no notice names the refused link values; warnings shown: "
                     f"{seen.warnings}")
    assert f"district={MARKED_DISTRICT}" in notices[0]
    assert f"school={MARKED_SCHOOL}" in notices[0]


def test_scope_is_not_widened_by_session_state_or_url(marked_env):
    """Writing the marked district into the filter's state (as a crafted widget message
    would) or the URL never brings its rows into a query."""
    at = demo_app(f"district:{OTHER_DISTRICT}", "app_pages/favorites.py")
    at.session_state["f_district"] = [MARKED_DISTRICT]
    at.session_state["f_school"] = [MARKED_SCHOOL]
    at.query_params["district"] = MARKED_DISTRICT
    at.run()
    seen = Seen()
    seen.add(at, "crafted state")
    problems = leaks(seen)
    assert not problems, "\n".join(problems[:15])


# --------------------------------------------------------------------------- output safety

def test_a_school_named_like_html_is_text(marked_env):
    """The marked school's name reaches its leader as the literal string: in the filter's
    options, in the tables, HTML-escaped in chart labels (Plotly renders entities as text),
    and never in an element allowed to render HTML."""
    at = demo_app(f"district:{MARKED_DISTRICT}", "app_pages/applications.py")
    assert MARKED_SCHOOL_NAME in at.multiselect(key="f_school").options
    pick(at, "f_school", [MARKED_SCHOOL_NAME])
    seen = Seen()
    seen.add(at, "school chosen")
    pick(at, "f_school", [])
    pick(at, "apps_by", "School")
    seen.add(at, "by school")
    cells = {str(v) for _, f in seen.frames for v in f.to_numpy().ravel()}
    assert MARKED_SCHOOL_NAME in cells, "the marked school is in no table"
    header = [t for w, t in seen.texts if "school chosen markdown" in w and XSS in t]
    assert header, "the chosen school is not named in the page's header"
    for node in walk(at._tree):
        if getattr(node, "type", "") == "markdown" and XSS in node.proto.body:
            assert not node.proto.allow_html, node.proto.body
    charts = [json.loads(n.proto.spec) for n in walk(at._tree)
              if getattr(n, "type", "") == "plotly_chart"]
    labels = [s for c in charts for s in raw_strings(c) if MARKER in s]
    assert labels, "the marked school is in no chart"
    assert not [s for s in labels if "<img" in s], "a chart label carries raw HTML"
    assert any(XSS in html.unescape(s) for s in labels)


def formula_cells(blob: bytes) -> list[str]:
    """Cells of a CSV that a spreadsheet would run as a formula."""
    bad = []
    for row in csv.reader(io.StringIO(blob.decode("utf-8-sig"))):
        for cell in row:
            if cell[:1] in ("=", "+", "@", "\t", "\r"):
                bad.append(cell)
            elif cell.startswith("-") and not re.fullmatch(r"-\d[\d,.]*%?", cell):
                bad.append(cell)
    return bad


@pytest.mark.parametrize("persona", [f"district:{MARKED_DISTRICT}", "coe"])
def test_a_formula_cell_is_neutralised_in_the_csv(marked_env, persona):
    """The college favorited under a formula name shows as itself in the table, and its
    CSV cell starts with a single quote."""
    at = demo_app(persona, "app_pages/favorites.py")
    seen = Seen()
    seen.add(at, "favorites")
    shown_in = [w for w, f in seen.frames if FORMULA_COLLEGE in set(f.astype(str).to_numpy()
                                                                   .ravel())]
    assert shown_in, "the formula-named college is in no table"
    blobs = [b for _, b in seen.csvs if MARKER.encode() in b]
    assert blobs, "no download carries the formula-named college"
    for blob in blobs:
        assert blob.startswith("\ufeff".encode()), "not UTF-8 with BOM"
        cells = [c for row in csv.reader(io.StringIO(blob.decode("utf-8-sig"))) for c in row]
        assert NEUTRALISED_COLLEGE in cells
        assert FORMULA_COLLEGE not in cells
    for where, blob in seen.csvs:
        assert not formula_cells(blob), f"{where}: {formula_cells(blob)[:5]}"


# --------------------------------------------------------------------------- coordinators

def names_and_ssids(seen: Seen, ssids: set[str], names: set[tuple[str, str]]) -> list[str]:
    """SSIDs of the roster and full names ("First Last", or first and last name in two
    cells of one row) of its students, wherever they show."""
    out = []
    words = re.compile(r"[^\W\d_][\w'\-]*")
    for where, text in seen.texts:
        for d in set(re.findall(r"(?<!\d)\d{10}(?!\d)", text)) & ssids:
            out.append(f"{where}: SSID {d}")
        for line in text.splitlines():
            for pair in set(pairwise(words.findall(line))) & names:
                out.append(f"{where}: name {' '.join(pair)}")
    for where, frame in seen.frames:
        cols = {str(c).lower() for c in frame.columns}
        for c in ("ssid", "first name", "last name", "first_name", "last_name"):
            if c in cols:
                out.append(f"{where}: a column {c!r}")
        for row in frame.astype(str).itertuples(index=False):
            cells = set(row)
            if any((a, b) in names for a in cells for b in cells):
                out.append(f"{where}: a row naming a student {row}")
    return out


def check_coordinator(make: Callable[[], AppTest], dd: DataDir, scope: Scope) -> None:
    ssids, names = roster_identifiers(dd)
    seen = Seen()
    refused = visit_pages(make, seen, sweep=False)
    for spec in STUDENT_LEVEL:
        assert spec.path in refused, f"{spec.path} is in a coordinator's navigation"
    assert sorted(refused) == sorted(s.path for s in PAGES if s.path not in allowed(scope))
    problems = names_and_ssids(seen, ssids, names)
    assert not problems, f"{len(problems)} found, first ones:\n" + "\n".join(problems[:15])
    # a student-level page run around the navigation still refuses
    for spec in STUDENT_LEVEL:
        at = make()
        ident = at.session_state[IDENTITY_KEY]
        page = AppTest.from_file(str(ROOT / spec.path), default_timeout=60)
        page.session_state[IDENTITY_KEY] = ident
        page.run()
        assert any("aggregates only" in e.value for e in page.error), spec.path
        assert not page.dataframe and not page.get("download_button")


def test_demo_coordinator_never_sees_a_name_or_an_ssid(app_env, demo_data):
    # the control: the same check finds the names and SSIDs of a district leader's list
    control = Seen()
    control.add(demo_app(f"district:{OTHER_DISTRICT}", "app_pages/students.py"), "control")
    found = names_and_ssids(control, *roster_identifiers(demo_data))
    assert any("SSID" in f for f in found) and any("name" in f for f in found)
    check_coordinator(lambda: demo_app("coe"), demo_data,
                      Scope("demo", all_districts=True, dataset="demo"))


def test_coe_user_never_sees_a_name_or_an_ssid(live_env):
    check_coordinator(lambda: user_app("cora", "coe"), live_env,
                      Scope("coe", all_districts=True))


# --------------------------------------------------------------------------- demo vs real

@pytest.fixture
def real_marked(marked_data, demo_data, tmp_path, monkeypatch) -> DataDir:  # noqa: F811
    """The marked data as the REAL data directory, the plain demo as the demo's."""
    monkeypatch.setenv("CCGI_DATA_DIR", str(marked_data.root))
    monkeypatch.setenv("CCGI_DEMO_DIR", str(demo_data.root))
    monkeypatch.delenv("CCGI_USERS_FILE", raising=False)
    monkeypatch.delenv("CCGI_COOKIE_KEY", raising=False)
    return marked_data


@pytest.mark.parametrize("persona", ["coe", f"district:{MARKED_DISTRICT}"])
def test_a_demo_persona_never_reads_real_data(real_marked, demo_data, persona):
    """With real data loaded beside the demo, a demo persona (even one named after a
    district of the real data) sees the demo only: no marker anywhere."""
    for scope in (Scope("demo", all_districts=True, dataset="demo"),
                  Scope("demo", districts=(MARKED_DISTRICT,), student_level=True,
                        dataset="demo"),
                  Scope("admin", all_districts=True, student_level=True, dataset="demo")):
        assert data.data_dir_for(scope) == demo_data.root.resolve()
    assert data.data_dir_for(Scope("admin", all_districts=True)) == real_marked.root.resolve()
    seen = Seen()
    visit_pages(lambda: demo_app(persona), seen, searches=(MARKER,), sweep=False)
    marked = [f"{w}: {snippet(t, MARKER)!r}" for w, t in seen.texts if MARKER in t]
    assert not marked, "\n".join(marked[:15])
    assert any(MARKED_DISTRICT_NAME in t for _, t in seen.texts), "the demo showed nothing"
