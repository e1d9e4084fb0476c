"""The page context is derived once per run and never outlives it (``session.context``,
``session.new_run``): the shell derives it when it draws the sidebar and the page reuses it
within the run, but the next run derives it again from the session's identity, so a changed
or withdrawn identity takes effect at once."""

from __future__ import annotations

from ccgi_dash.ui.session import IDENTITY_KEY, Identity

from conftest import FRESNO_UNIFIED, demo_app


def _links(at) -> list[str]:
    return [link.proto.label for link in at.get("page_link")]


def _scope_line(at) -> str:
    return " ".join(m.value for m in at.markdown if "data as of" in m.value)


def test_a_new_identity_takes_effect_in_the_next_run(app_env):
    at = demo_app("coe", "app_pages/overview.py")
    assert not at.exception
    assert "Students" not in _links(at)  # the coordinator sees aggregates only
    assert "districts of the county" in _scope_line(at)
    at.session_state[IDENTITY_KEY] = Identity("demo", f"district:{FRESNO_UNIFIED}")
    at.run()
    assert not at.exception
    # the navigation (drawn before the sidebar) and the page both belong to the new identity
    assert "Students" in _links(at), _links(at)
    assert "Fresno Unified" in _scope_line(at), _scope_line(at)
    assert "districts of the county" not in _scope_line(at)


def test_the_page_is_given_the_context_the_shell_derived(app_env, monkeypatch):
    from ccgi_dash.ui import session

    derived = []
    real = session.resolve

    def counting(ident):
        derived.append(ident)
        return real(ident)

    monkeypatch.setattr(session, "resolve", counting)
    at = demo_app("coe", "app_pages/financial_aid.py")
    assert not at.exception
    derived.clear()
    at.run()
    assert not at.exception
    # once for the gate check, once with the sidebar: not again for the page, its cards,
    # its panels and its downloads
    assert len(derived) == 2, len(derived)


def test_an_idle_session_holds_no_context(app_env):
    """Between runs nothing of the last one is kept: an idle tab would otherwise keep the
    warehouse it read alive after a newer load replaced it."""
    from ccgi_dash.ui import session

    at = demo_app("coe", "app_pages/overview.py")
    assert not at.exception
    assert session._RUN_CONTEXT not in at.session_state
