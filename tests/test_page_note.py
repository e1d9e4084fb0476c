"""The suppression note of the topic pages (issue 11, item 10), in AppTest on the demo.

The note says what ``*`` and ``--`` mean, and only for the marks the page shows: a page with
no hidden value says nothing about hiding; its asterisk is escaped markdown (a literal ``*``,
never emphasis nor a code span, whose small type read as a dot).
"""

import pytest

from ccgi_dash.ui import shell

from conftest import demo_app, export_rows, reveal, shown

TOPIC_PAGES = [s for s in shell.PAGES if s.topic is not None]
HIDDEN = "hidden to protect privacy"
EMPTY = "no students in the group"


def _notes(at) -> list[str]:
    return [c.value for c in at.caption if HIDDEN in c.value or EMPTY in c.value]


def _marks(at) -> set[str]:
    """The marks a reader meets on the page: in a card's value or a table's cells."""
    cells = {str(m.value) for m in at.metric}
    for d in at.dataframe:
        cells |= {str(v) for v in shown(d).to_numpy().ravel()}
    return cells & {"*", "--"}


@pytest.mark.parametrize("spec", TOPIC_PAGES, ids=[s.id for s in TOPIC_PAGES])
def test_the_note_explains_exactly_the_marks_on_the_page(app_env, spec):
    at = reveal(demo_app("coe", spec.path))
    assert not at.exception, at.exception
    marks, notes = _marks(at), _notes(at)
    assert len(notes) <= 1, notes
    note = notes[0] if notes else ""
    assert (HIDDEN in note) == ("*" in marks), (spec.id, marks, note)
    assert (EMPTY in note) == ("--" in marks), (spec.id, marks, note)
    if "*" in marks:
        # escaped: markdown shows a literal asterisk; no code span, no emphasis
        assert "\u201c\\*\u201d" in note and "`*`" not in note, note


def test_financial_aid_note_follows_the_export(app_env, demo_data):
    """Independent of the page: the export by district hides some district at this drop, so
    the page (which charts the districts) carries the note with the threshold's numbers."""
    rows = export_rows(demo_data, "--metric", "aid_completed", "--by", "district")
    assert any(r["suppressed"] for r in rows)
    at = demo_app("coe", "app_pages/financial_aid.py")
    notes = _notes(at)
    assert len(notes) == 1 and "1 to 10 students" in notes[0], notes


def test_no_note_where_nothing_is_hidden(app_env, demo_data):
    """Accounts, all grades of the county by grade: the export hides no grade of either
    measure, the cards hide nothing, so the page has no note at all."""
    for metric in ("account_registered", "active_30d"):
        rows = export_rows(demo_data, "--metric", metric, "--by", "grade_level")
        assert not any(r["suppressed"] for r in rows)
        assert all(r["denominator"] for r in rows)
    at = demo_app("coe", "app_pages/accounts.py")
    assert not at.exception
    assert _marks(at) == set()
    assert _notes(at) == []
