"""The app's shell: the gate, the sidebar and the navigation.

``st.navigation`` registers only the pages this identity may open, so the gate (demo door or
sign-in) is the only way in; each page still checks for itself (``page.begin``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from ccgi_dash import views
from ccgi_dash.scope import Scope
from ccgi_dash.ui import data, session

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    icon: str
    section: str
    needs: str = ""
    """'' for everyone, 'student_level' for student lists, 'admin' for administration."""

    def allowed(self, scope: Scope) -> bool:
        if self.needs == "admin":
            return scope.role == "admin"
        if self.needs == "student_level":
            return scope.student_level
        return True


PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/overview.py", "Overview", ":material/dashboard:", "Dashboards"),
    PageSpec("pages/financial_aid.py", "Financial aid", ":material/payments:", "Dashboards"),
    PageSpec("pages/applications.py", "College applications", ":material/school:",
             "Dashboards"),
    PageSpec("pages/ag_eligibility.py", "a-g eligibility", ":material/checklist:", "Dashboards"),
    PageSpec("pages/favorites.py", "Favorites", ":material/favorite:", "Dashboards"),
    PageSpec("pages/assessments.py", "Career assessments", ":material/psychology:",
             "Dashboards"),
    PageSpec("pages/accounts.py", "Accounts", ":material/person_add:", "Dashboards"),
    PageSpec("pages/equity.py", "Equity", ":material/balance:", "Dashboards"),
    PageSpec("pages/students.py", "Students", ":material/groups:", "Follow-up",
             "student_level"),
    PageSpec("pages/cleanup.py", "Data clean-up", ":material/cleaning_services:", "Follow-up",
             "student_level"),
    PageSpec("pages/data_status.py", "Data status", ":material/monitor_heart:",
             "Administration", "admin"),
    PageSpec("pages/audit_log.py", "Audit log", ":material/policy:", "Administration", "admin"),
)


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


def url_path(spec: PageSpec) -> str:
    """The URL path Streamlit gives a page file (its name without .py)."""
    return Path(spec.path).stem


def _gate_pages() -> list[st.Page]:
    """While nobody is signed in, every page's URL shows the gate. A shared link to
    ``/financial_aid?district=...`` thus keeps its page and its filters through the sign-in
    or the demo door, and opens as it was sent; no page runs before that."""
    pages = [st.Page(_gate, title="Welcome", icon=":material/login:", url_path="welcome",
                     default=True)]
    for spec in PAGES:
        pages.append(st.Page(_gate, title=spec.title, url_path=url_path(spec)))
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
                       layout="wide", initial_sidebar_state="expanded")
    problem = login.check_cookie_key()
    if problem:
        st.error(problem, icon=":material/key_off:")
        st.stop()
    if session.identity() is None:
        login.restore_session()
    ctx = session.context(render_sidebar=False) if session.identity() else None
    if ctx is None:
        st.navigation(_gate_pages(), position="hidden").run()
        return
    login.sync_cookie()
    _user_box(ctx)
    session.context(render_sidebar=True)
    sections: dict[str, list[st.Page]] = {}
    for spec in PAGES:
        if spec.allowed(ctx.scope) and (ROOT / spec.path).exists():
            sections.setdefault(spec.section, []).append(
                st.Page(str(ROOT / spec.path), title=spec.title, icon=spec.icon))
    st.navigation(sections).run()
