"""The app's shell: the gate, the sidebar and the navigation.

``st.navigation`` registers only the pages this identity may open, so the gate (demo door or
sign-in) is the only way in; each page still checks for itself (``page.begin``). ``PAGES``
declares every page once (file, title, icon, who may open it); only Streamlit's public API
is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from ccgi_dash import views
from ccgi_dash.scope import Scope
from ccgi_dash.topics import Topic, accounts, ag, aid, apps, assessments, equity, favorites
from ccgi_dash.ui import data, session, theme

ROOT = Path(__file__).resolve().parents[2]


PAGES_DIR = "app_pages"
"""Where the page files live. Not ``pages/``: Streamlit runs a main script with a ``pages/``
folder beside it as a legacy multipage app until ``st.navigation`` has run once in the
process, so on a fresh server a shared link (``/financial_aid?district=...``) opened as the
first request would run that page file directly, without the gate. A folder Streamlit does
not discover leaves ``st.navigation`` (public API) the only way to a page."""


@dataclass(frozen=True)
class PageSpec:
    """One page, declared once: its file, title, question, icon, menu section and who may
    open it (the navigation and ``page.begin`` both read it). A topic page takes its title
    and question from its ``Topic``."""

    id: str
    """The page file's stem and URL path."""
    icon: str
    section: str
    needs: str = ""
    """'' for everyone, 'student_level' for student lists, 'admin' for administration."""
    name: str = ""
    about: str = ""
    topic: Topic | None = None

    @property
    def path(self) -> str:
        return f"{PAGES_DIR}/{self.id}.py"

    @property
    def title(self) -> str:
        return self.topic.title if self.topic else self.name

    @property
    def lede(self) -> str:
        return self.topic.question if self.topic else self.about

    def allowed(self, scope: Scope) -> bool:
        if self.needs == "admin":
            return scope.role == "admin"
        if self.needs == "student_level":
            return scope.student_level
        return True


PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview", ":material/dashboard:", "Dashboards", name="Overview",
             about="Where the students stand, from a first account to a completed financial "
                   "aid application."),
    PageSpec("financial_aid", ":material/payments:", "Dashboards", topic=aid.TOPIC),
    PageSpec("applications", ":material/school:", "Dashboards", topic=apps.TOPIC),
    PageSpec("ag_eligibility", ":material/checklist:", "Dashboards", topic=ag.TOPIC),
    PageSpec("favorites", ":material/favorite:", "Dashboards", topic=favorites.TOPIC),
    PageSpec("assessments", ":material/psychology:", "Dashboards", topic=assessments.TOPIC),
    PageSpec("accounts", ":material/person_add:", "Dashboards", topic=accounts.TOPIC),
    PageSpec("equity", ":material/balance:", "Dashboards", topic=equity.TOPIC),
    PageSpec("students", ":material/groups:", "Follow-up", "student_level", name="Students",
             about="Lists of your students to follow up on this week. Names and SSIDs are "
                   "shown only to roles entitled to them; views and downloads are recorded in "
                   "the audit log."),
    PageSpec("cleanup", ":material/cleaning_services:", "Follow-up", name="Data clean-up",
             about="Records to correct at the source, district by district: SSIDs, grades, "
                   "school codes, statuses that contradict each other, and student groups "
                   "never reported (a coordinator sees the counts, district leaders the "
                   "records)."),
    PageSpec("data_status", ":material/monitor_heart:", "Administration", "admin",
             name="Data status", about="What CCGI sent, what was loaded, and what needs a look."),
    PageSpec("audit_log", ":material/policy:", "Administration", "admin", name="Audit log",
             about="Who exported or viewed student-level data, when, with which scope, and how "
                   "many rows. The log holds no student names or SSIDs."),
)


def spec(page_id: str) -> PageSpec:
    """The declaration of a page; a KeyError names the pages there are."""
    for s in PAGES:
        if s.id == page_id:
            return s
    raise KeyError(f"no page {page_id!r}; declared: {', '.join(s.id for s in PAGES)}")


def page_file(s: PageSpec) -> Path:
    """The page's file, which must exist: a declared page without its file is an
    installation error, never a page silently left out of the menu."""
    path = ROOT / s.path
    if not path.is_file():
        raise FileNotFoundError(f"page {s.id!r} is declared in ui/shell.py but {s.path} is "
                                "missing")
    return path


def _gate() -> None:
    from ccgi_dash.ui import login

    st.title("College and career dashboard")
    st.caption("CaliforniaColleges.edu activity of the county's students: accounts, "
               "FAFSA/CADAA, UC, CSU and community college applications, a-g eligibility, "
               "favorites and career assessments.")
    demo_col, login_col = st.columns(2, gap="large")
    with demo_col, st.container(border=True):
        _demo_door()
    with login_col, st.container(border=True):
        login.render_login()


def url_path(s: PageSpec) -> str:
    """The URL path Streamlit gives a page file (its name without .py)."""
    return s.id


def _gate_pages() -> list[st.Page]:
    """While nobody is signed in, every page's URL shows the gate. A shared link to
    ``/financial_aid?district=...`` thus keeps its page and its filters through the sign-in
    or the demo door, and opens as it was sent; no page runs before that."""
    pages = [st.Page(_gate, title="Welcome", icon=":material/login:", url_path="welcome",
                     default=True)]
    for s in PAGES:
        pages.append(st.Page(_gate, title=s.title, url_path=url_path(s)))
    return pages


def _demo_door() -> None:
    st.subheader("Explore the demo")
    st.write("Synthetic students in the real districts and schools of a California county. "
             "No password needed.")
    demo_scope = session.demo_scope("coe")
    assert demo_scope is not None
    opts = data.view(views.options, demo_scope[1], None)
    if not opts.districts:
        st.info("The demo data has not been built yet. Build it with:\n\n"
                "```\npython -m ccgi_dash demo --county Fresno --out data/demo/drops\n"
                "python -m ccgi_dash ingest --data-dir data/demo data/demo/drops\n```\n\n"
                "or start the app with `./run.sh`, which does both.")
        return
    persona = st.radio("Enter as", ["COE coordinator", "District leader"], horizontal=True,
                       key="gate_persona")
    district = None
    if persona == "District leader":
        names = dict(opts.districts)
        codes = list(names)
        schools = [sum(s[2] == c for s in opts.schools) for c in codes]
        district = st.selectbox("District", codes, format_func=lambda c: names[c],
                                index=schools.index(max(schools)), key="gate_district")
    if st.button("Enter the demo", type="primary", key="gate_enter"):
        session.enter_demo("coe" if district is None else f"district:{district}")
        st.rerun()


def _user_box(ctx: session.PageContext) -> None:
    with st.sidebar, st.container(border=True):
        st.markdown(f"**{session_text(ctx.display_name)}**")
        st.caption(ctx.role_label + (" · synthetic data" if ctx.synthetic else ""))
        label = "Leave the demo" if ctx.synthetic else "Sign out"
        if st.button(label, key="sign_out", width="stretch"):
            session.sign_out()
            st.rerun()


def session_text(text: str) -> str:
    return str(text).replace("*", "").replace("`", "")


def main() -> None:
    from ccgi_dash.ui import login

    st.set_page_config(page_title="CCGI college and career dashboard", page_icon="🎓",
                       layout="wide", initial_sidebar_state="auto")
    session.new_run()
    theme.apply()
    problem = login.check_cookie_key()
    if problem:
        st.error(problem, icon=":material/key_off:")
        st.stop()
    if session.identity() is None:
        login.restore_session()
    if session.identity() is None:
        login.restore_demo()
    ctx = session.context(render_sidebar=False) if session.identity() else None
    if ctx is None:
        st.navigation(_gate_pages(), position="hidden").run()
        return
    pages = [st.Page(str(page_file(s)), title=s.title, icon=s.icon, url_path=url_path(s))
             for s in PAGES if s.allowed(ctx.scope)]
    nav = st.navigation(pages, position="hidden")
    _nav_links([s for s in PAGES if s.allowed(ctx.scope)], pages)
    _user_box(ctx)
    try:  # from the moment the run's context is held, whatever ends the run lets it go
        session.context(render_sidebar=True)
        _close_sidebar_on_narrow(nav.url_path)
        with st.sidebar:  # last in the sidebar: its coming and going moves no other element
            login.sync_cookie()
        nav.run()
    finally:  # an idle session holds no context (nor the warehouse it names) between runs
        session.new_run()


_LAST_PAGE = "_ccgi_last_page"
_CLOSE_SIDEBAR = """<script>
const doc = window.parent.document;
if (window.parent.innerWidth <= 768) {
  const bar = doc.querySelector('[data-testid="stSidebar"]');
  const btn = doc.querySelector('[data-testid="stSidebarCollapseButton"] button');
  if (bar && btn && bar.getAttribute('data-collapsed') === 'false') btn.click();
}
</script><!-- PAGE -->"""


def _close_sidebar_on_narrow(page: str) -> None:
    """Close the sidebar after a move to another page on a narrow screen (a phone), as
    Streamlit's own menu does: the page links of ``_nav_links`` would otherwise leave it
    lying over the page (a11y finding A3). Only on a change of page, so a reader setting
    filters keeps the sidebar open. Streamlit has no public call for this; a hidden
    ``st.iframe`` (fixed HTML, no data) clicks the sidebar's own close button, and only
    below 769 px."""
    last = st.session_state.get(_LAST_PAGE)
    st.session_state[_LAST_PAGE] = page
    if last is None or last == page:
        return
    with st.sidebar, st.container(key="ccgi_close_sidebar"):
        st.iframe(_CLOSE_SIDEBAR.replace("PAGE", session_text(page)), height=1)


def _nav_links(specs: list[PageSpec], pages: list[st.Page]) -> None:
    """The navigation, drawn in the sidebar: each section's heading, then a link per page.

    Not ``st.navigation(dict)``'s own menu: Streamlit 1.67 draws its section headers inside
    the ``<ul>`` of links, which is invalid list markup (axe-core's ``list``/``listitem``,
    WCAG 1.3.1; a11y finding A1). ``st.page_link`` under a heading keeps the sections with
    valid markup; the navigation itself is registered hidden."""
    with st.sidebar, st.container(key="ccgi_nav"):
        section = None
        for s, p in zip(specs, pages, strict=True):
            if s.section != section:
                section = s.section
                st.markdown(f"#### {section}")
            st.page_link(p, label=s.title, icon=s.icon)
