"""Shared fixtures: a small demo warehouse built once per test session, and app helpers.

The demo warehouse is the real pipeline end to end (the demo generator writes CSV drops, the
loader validates and loads them), on Fresno County at a tenth of its size. To keep the suite
fast it loads a subset of the weekly drops: every fourth week, the last three weeks, and the
weeks one year before those (so "same week last year" has its match).
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ccgi_dash import demo, loader  # noqa: E402
from ccgi_dash.settings import Settings  # noqa: E402
from ccgi_dash.store import DataDir  # noqa: E402

DEMO_THROUGH = date(2026, 11, 20)
DEMO_COUNTY = "Fresno"
DEMO_SCALE = 0.1


def pick_drops(dates: list[date]) -> list[date]:
    """A subset of weekly drops that still has trends, last week and last year."""
    latest = dates[-3:]
    chosen = set(dates[::4]) | set(latest)
    for d in latest:
        target = d - timedelta(weeks=52)
        chosen.add(min(dates, key=lambda x: abs((x - target).days)))
    return sorted(chosen)


@pytest.fixture(scope="session")
def demo_drops(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "drops"
    demo.generate(DEMO_COUNTY, out, seed=7, scale=DEMO_SCALE, through=DEMO_THROUGH)
    return out


@pytest.fixture(scope="session")
def demo_data(demo_drops, tmp_path_factory) -> DataDir:
    """A loaded demo data directory (read-only for tests: copy it to change it)."""
    dd = DataDir(tmp_path_factory.mktemp("demo-data"))
    dates = sorted({date.fromisoformat(f"{p.stem[-8:-4]}-{p.stem[-4:-2]}-{p.stem[-2:]}")
                    for p in demo_drops.glob("students_*.csv")})
    files = [p for d in pick_drops(dates) for p in demo_drops.glob(f"*_{d:%Y%m%d}.csv")]
    report = loader.ingest(dd, files, Settings())
    assert report.exit_code == 0, report.summary_lines()
    return dd


@pytest.fixture
def app_env(demo_data, tmp_path, monkeypatch) -> DataDir:
    """Environment for an app run: the demo data as the demo directory, and an empty real
    data directory of its own (no users file, so the demo door works without a cookie key)."""
    live = DataDir(tmp_path / "live")
    monkeypatch.setenv("CCGI_DEMO_DIR", str(demo_data.root))
    monkeypatch.setenv("CCGI_DATA_DIR", str(live.root))
    monkeypatch.delenv("CCGI_USERS_FILE", raising=False)
    monkeypatch.delenv("CCGI_COOKIE_KEY", raising=False)
    return live


def demo_app(persona: str = "coe", page: str | None = None, query: dict | None = None):
    """An AppTest of app.py entered through the demo door as ``persona``, on ``page``."""
    from streamlit.testing.v1 import AppTest

    from ccgi_dash.ui.session import IDENTITY_KEY, Identity

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if query:
        for k, v in query.items():
            at.query_params[k] = v
    at.session_state[IDENTITY_KEY] = Identity("demo", persona)
    at.run()
    if page:
        at.switch_page(page).run()
    return at


def export_rows(dd: DataDir, *args: str) -> list[dict]:
    """What ``python -m ccgi_dash export`` reports, run in-process as JSON."""
    import contextlib
    import io
    import json

    from ccgi_dash.cli import main

    buf = io.BytesIO()

    class _Out:
        buffer = buf

        def write(self, s: str) -> None:
            buf.write(s.encode())

        def flush(self) -> None:
            pass

    with contextlib.redirect_stdout(_Out()):  # type: ignore[type-var]
        code = main(["export", "--data-dir", str(dd.root), "--format", "json", *args])
    assert code == 0
    return json.loads(buf.getvalue().decode())


PASSWORD = "correct horse battery staple"
GOOD_KEY = __import__("secrets").token_urlsafe(48)
"""A cookie key the app accepts (48 random bytes, as docs/security.md says to make one)."""


def sign_in_env(monkeypatch, data: Path, users: Path) -> None:
    """Environment for real sign-ins: a data directory, a users file, a good cookie key, no
    throttle delay, and fast bcrypt (cost 4) so tests do not wait on hashing."""
    from ccgi_dash.accounts import passwords

    monkeypatch.setenv("CCGI_DATA_DIR", str(data))
    monkeypatch.setenv("CCGI_USERS_FILE", str(users))
    monkeypatch.setenv("CCGI_COOKIE_KEY", GOOD_KEY)
    monkeypatch.setenv("CCGI_LOGIN_FAILURE_DELAY", "0")
    monkeypatch.setattr(passwords, "BCRYPT_ROUNDS", 4)


@pytest.fixture
def live_env(demo_data, tmp_path, monkeypatch) -> DataDir:
    """Real-data setup: a copy of the demo warehouse as the *live* data directory, a users
    file and a strong cookie key, and an empty demo directory beside it."""
    import shutil

    live = tmp_path / "live"
    shutil.copytree(demo_data.root, live)
    sign_in_env(monkeypatch, live, live / "users.yaml")
    monkeypatch.setenv("CCGI_DEMO_DIR", str(tmp_path / "demo-empty"))
    return DataDir(live)


def user_app(username: str, role: str, districts: tuple[str, ...] = (),
             page: str | None = None):
    """An AppTest of app.py signed in as a real user (created now) through a real session."""
    from streamlit.testing.v1 import AppTest

    from ccgi_dash.accounts.passwords import hash_password
    from ccgi_dash.accounts.signin import login
    from ccgi_dash.accounts.users import add_user, load_users, users_file_path
    from ccgi_dash.ui.session import IDENTITY_KEY, Identity

    path = users_file_path()
    if username not in load_users(path):
        add_user(path, username, name=username.title(), role=role,
                 password_hash=hash_password(PASSWORD), districts=districts)
    result = login(username, PASSWORD, sleep=lambda _s: None)
    assert result.ok, result
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state[IDENTITY_KEY] = Identity("user", username, result.session_id)
    at.run()
    if page:
        at.switch_page(page).run()
    return at


FRESNO_UNIFIED = "1062166"


def shown(element):
    """What a reader reads in an AppTest table: the display text where the page hands
    ``st.dataframe`` a Styler (``tables.styled``: numbers underneath, ``*``/``--`` and
    formatted numbers on screen), else the values."""
    from streamlit import dataframe_util

    value = element.value
    text = element.proto.arrow_data.styler.display_values
    if not text:
        return value
    out = dataframe_util.convert_arrow_bytes_to_pandas_df(text)
    out.index = value.index
    return out[list(value.columns)]


def _stateful(node):
    """Every Table tab and folded detail under ``node`` as (user key, value that opens it).
    Their element id ends in the key the page gave them (``$$ID-<hash>-<key>``)."""
    proto = getattr(node, "proto", None)
    ident = getattr(proto, "id", "") if proto is not None else ""
    if ident and getattr(node, "type", "") == "tab_container":
        yield ident.split("-", 2)[2], "Table"
    elif ident and getattr(node, "type", "") == "expander":
        yield ident.split("-", 2)[2], True
    for child in getattr(node, "children", {}).values():
        yield from _stateful(child)


def reveal(at):
    """Open what a reader opens to read every number of the page: each chart's Table tab and
    each folded detail. The page draws their contents only while open (``render.folded``,
    ``render.chart_and_table``) and a click reruns it, so this sets them open the way the
    browser does (in their session-state keys) and runs the page again, until a run opens
    nothing new (a detail holds Table tabs of its own). Returns ``at``."""
    for _ in range(4):
        closed = {key: value for key, value in _stateful(at.main)
                  if key not in at.session_state or at.session_state[key] != value}
        if not closed:
            return at
        for key, value in closed.items():
            at.session_state[key] = value
        at.run()
    raise AssertionError("the page keeps showing closed tabs or details after four runs")


def _tables(at, columns: tuple[str, ...]):
    if not at.exception:
        reveal(at)
    return [d for d in at.dataframe if set(columns) <= set(d.value.columns)]


def table_with(at, *columns: str):
    """The first table on the page with these columns (tables carry no key in AppTest), as
    the reader reads it (:func:`shown`), with the page's Table tabs and details opened first
    (:func:`reveal`); ``table_values`` gives the numbers underneath."""
    return next((shown(d) for d in _tables(at, columns)), None)


def table_values(at, *columns: str):
    """The numbers under the first table with these columns (what its sort orders by)."""
    return next((d.value for d in _tables(at, columns)), None)


def card(at, label: str) -> str:
    """The value of the headline card with this label."""
    return next(m.value for m in at.metric if m.label == label)


def pct(row: dict) -> str:
    """An export row formatted as the pages format a rate (from the exact counts)."""
    return "*" if row["suppressed"] else f"{row['numerator'] / row['denominator'] * 100:.1f}%"


BROWSER_RERUNS = 0
"""How often a failed browser test is run again before it counts as failed: never. The
flaky browser tests had causes, found and fixed (README, "Tests and benchmarks"); after the
fixes the 76 browser tests passed three serial runs of ``-m browser`` in a row without
reruns. Raise this (pytest-rerunfailures is still installed) only with the test named and
its cause in the README."""


def pytest_collection_modifyitems(config, items) -> None:
    if not BROWSER_RERUNS:
        return
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.flaky(reruns=BROWSER_RERUNS, reruns_delay=1))
