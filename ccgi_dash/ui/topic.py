"""The one renderer of a declared topic page (``ccgi_dash.topics.Topic``).

A topic page file is ``topic.render(<module>.TOPIC)``: this module reads the page's widgets
(measure, breakdown, choices), calls the topic's data functions through ``data.view`` with the
page's request, and draws the panels. Everything a page shows about a metric comes from the
catalogue; the sections a topic declares say what else it shows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from ccgi_dash import goals, metrics
from ccgi_dash.datasets import DIMENSIONS, SUBGROUP_DIMENSIONS
from ccgi_dash.privacy import EMPTY_GROUP, SUPPRESSED
from ccgi_dash.topics import Section, Topic, panels
from ccgi_dash.ui import data, page, render
from ccgi_dash.ui.session import PageContext
from ccgi_dash.views import Headline


def _title(metric_id: str) -> str:
    return metrics.metric(metric_id).title


def _default_breakdown(topic: Topic, ctx: PageContext) -> str:
    if topic.default_breakdown:
        return topic.default_breakdown
    return "school" if len(ctx.options.districts) <= 1 else "district"


def _choices(topic: Topic, ctx: PageContext) -> list[str]:
    """No "District" for a user who sees one district, where it would be a single bar."""
    return [d for d in topic.breakdowns if d != "district" or len(ctx.options.districts) > 1
            or topic.default_breakdown is None]


class Drawn:
    """What a page has drawn so far, for the suppression note: which of its marks (``*``
    hidden, ``--`` no students) appear in a card, a table or a chart of the page."""

    def __init__(self) -> None:
        self.marks: set[str] = set()

    def cards(self, cards: Sequence[Headline]) -> None:
        for c in cards:
            if c.suppressed or c.county_suppressed:
                self.marks.add(SUPPRESSED)
            if c.text == EMPTY_GROUP:
                self.marks.add(EMPTY_GROUP)

    def panel(self, panel: panels.Panel) -> None:
        self.marks |= render.marks_in(panel.table, panel.fig)


def _show(panel: panels.Panel, drawn: Drawn) -> None:
    drawn.panel(panel)
    render.chart_and_table(panel.fig, panel.table, panel.name, note=panel.note,
                           narrow=panel.narrow)


def _note(drawn: Drawn, ctx: PageContext) -> None:
    """The suppression note, only where the page shows a ``*`` or a ``--``."""
    note = render.suppression_note(ctx.threshold, hidden=SUPPRESSED in drawn.marks,
                                   empty=EMPTY_GROUP in drawn.marks)
    if note:
        st.caption(note)


def render_topic(topic: Topic) -> None:
    """Draw a declared topic page: header and gate, cards, then each section in order."""
    ctx = page.begin(topic.page)
    if topic.id == "equity":
        _equity(topic, ctx)
        return
    req = ctx.request
    measures = topic.measures
    people = data.view(panels.population, req, measures)
    if render.no_students(people, topic.noun):
        return
    drawn = Drawn()
    cards = data.view(panels.headlines, req, measures)
    drawn.cards(cards)
    render.headline_cards(cards, per_row=topic.cards_per_row, ctx=ctx)
    sections = topic.sections

    def pick() -> str:
        key = topic.key if topic.key in measures else measures[0]
        return st.selectbox("Measure (both charts)" if paired else "Measure", measures,
                            index=measures.index(key), format_func=_title,
                            key=f"{topic.id}_measure", width=420)

    # a page opening on two charts side by side asks for the measure in the left one, level
    # with the right one's "Break down by": the pickers share a row, the charts another
    paired = len(sections) > 1 and sections[0].half and sections[1].half
    metric_id = measures[0]
    if topic.picks_measure and not paired:
        metric_id = pick()
    picker = pick if topic.picks_measure and paired else None
    i = 0
    while i < len(sections):
        section = sections[i]
        if section.half and i + 1 < len(sections) and sections[i + 1].half:
            # two charts of the main story side by side (stacked on a narrow screen)
            for col, s in zip(st.columns(2, gap="medium"), sections[i:i + 2], strict=True):
                with col:
                    metric_id = _block(topic, s, ctx, metric_id, drawn, picker)
                picker = None
            i += 2
            continue
        metric_id = _block(topic, section, ctx, metric_id, drawn)
        i += 1
    _note(drawn, ctx)


def _block(topic: Topic, section: Section, ctx: PageContext, metric_id: str,
           drawn: Drawn, picker: Callable[[], str] | None = None) -> str:
    """One section under its subheader, or folded in an expander when it is a detail;
    ``picker`` (the measure's) is drawn under the subheader. Returns the measure."""
    if section.detail:
        # a detail below the page's main story: folded, one click away
        box = render.folded(section.title or "Details", f"{topic.id} {section.title}")
        with box:
            if section.caption:
                st.caption(section.caption)
            if box.open:
                _section(topic, section, ctx, metric_id, drawn)
        return metric_id
    if section.title:
        st.subheader(section.title)
    if section.caption:
        st.caption(section.caption)
    if picker is not None:
        metric_id = picker()
    _section(topic, section, ctx, metric_id, drawn)
    return metric_id


def _section(topic: Topic, section: Section, ctx: PageContext, metric_id: str,
             drawn: Drawn) -> None:
    req = ctx.request
    measures = topic.measures
    if section.kind == "trends":
        drop = ctx.warehouse.resolve(ctx.as_of)
        marks = tuple(topic.marks(drop)) if topic.marks else ()
        goal = None
        if metric_id in ctx.settings.goals:
            goal = goals.goal_for(ctx.settings, metric_id, drop,
                                  goals.single_district(req.scope, req.filters))
        for p in data.view(panels.trends, req, metric_id, marks, goal):
            _show(p, drawn)
    elif section.kind == "breakdown":
        dim = render.breakdown_picker(_choices(topic, ctx), _default_breakdown(topic, ctx),
                                      topic.id, group_width=420)
        _show(data.view(panels.breakdown, req, metric_id, dim), drawn)
    elif section.kind == "compare":
        dim = render.breakdown_picker(_choices(topic, ctx), _default_breakdown(topic, ctx),
                                      topic.id)
        _show(data.view(panels.compare, req, measures, dim, section.text), drawn)
    elif section.kind == "side_by_side":
        shown = data.view(panels.this_year_and_last, req, measures)
        cols = st.columns(min(2, len(shown)) or 1)
        for i, p in enumerate(shown):
            with cols[i % len(cols)]:
                _show(p, drawn)
    elif section.kind == "view":
        args = ()
        if section.choices:
            choice = st.segmented_control(section.choice_label, list(section.choices),
                                          key=f"{topic.id}_{section.key}",
                                          required=True, default=section.choices[0])
            args = (choice or section.choices[0],)
        result = data.view(section.view, req, *args)
        for p in result if isinstance(result, list) else [result]:
            _show(p, drawn)
        _more(topic, section, ctx, args, drawn)
    elif section.kind == "leaderboard":
        board = data.view(section.view, req, ctx.settings)
        tier = st.segmented_control(section.choice_label, board.tiers,
                                    key=f"{topic.id}_{section.key}",
                                    default=board.tiers[0] if board.tiers else None)
        _show(board.panel(tier), drawn)
        st.caption(board.caption)
        render.download(board.table, "fafsa-cadaa-leaderboard-all-tiers",
                        "Download all tiers (CSV)")
    elif section.kind == "students_link":
        if ctx.scope.student_level:
            from ccgi_dash.ui import shell

            st.page_link(shell.spec("students").path, icon=":material/groups:",
                         label=section.text)
    else:  # pragma: no cover - the Literal type lists every kind
        raise ValueError(f"unknown section kind {section.kind!r}")


def _equity(topic: Topic, ctx: PageContext) -> None:
    """Any metric of the catalogue by any student group."""
    ids = tuple(metrics.METRICS)
    left, right = st.columns(2)
    default = topic.key if topic.key in ids else ids[0]
    metric_id = left.selectbox("Metric", ids, key="equity_metric", index=ids.index(default),
                               format_func=_title)
    dim = right.selectbox("Student group", SUBGROUP_DIMENSIONS, key="equity_group",
                          format_func=lambda d: DIMENSIONS[d].title)
    req = ctx.request
    people = data.view(panels.population, req, (metric_id,))
    if render.no_students(people, metrics.metric(metric_id).noun):
        return
    drawn = Drawn()
    cards = data.view(panels.headlines, req, (metric_id,))
    drawn.cards(cards)
    render.headline_cards(cards, per_row=topic.cards_per_row, ctx=ctx)
    for section in topic.sections:
        main = list(data.view(section.view, req, metric_id, dim))
        if section.half and len(main) == 2:
            # the gap and its trend side by side (stacked on a narrow screen)
            for col, p in zip(st.columns(2, gap="medium"), main, strict=True):
                with col:
                    _show(p, drawn)
        else:
            for p in main:
                _show(p, drawn)
        _more(topic, section, ctx, (metric_id, dim), drawn)
    _note(drawn, ctx)


def _more(topic: Topic, section: Section, ctx: PageContext, args: tuple,
          drawn: Drawn) -> None:
    """The section's secondary panels (``Section.more_view``), folded under ``more`` and
    asked only while the reader has the expander open."""
    if section.more_view is None:
        return
    box = render.folded(section.more, f"{topic.id} {section.more}")
    with box:
        if box.open:
            for p in data.view(section.more_view, ctx.request, *args):
                _show(p, drawn)
