"""The one renderer of a declared topic page (``ccgi_dash.topics.Topic``).

A topic page file is ``topic.render(<module>.TOPIC)``: this module reads the page's widgets
(measure, breakdown, choices), calls the topic's data functions through ``data.view`` with the
page's request, and draws the panels. Everything a page shows about a metric comes from the
catalogue; the sections a topic declares say what else it shows.
"""

from __future__ import annotations

import streamlit as st

from ccgi_dash import goals, metrics
from ccgi_dash.datasets import DIMENSIONS, SUBGROUP_DIMENSIONS
from ccgi_dash.topics import Section, Topic, panels
from ccgi_dash.ui import data, page, render
from ccgi_dash.ui.session import PageContext


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


def _show(panel: panels.Panel) -> None:
    render.chart_and_table(panel.fig, panel.table, panel.name, note=panel.note)


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
    render.headline_cards(data.view(panels.headlines, req, measures),
                          per_row=topic.cards_per_row, ctx=ctx)
    metric_id = measures[0]
    if topic.picks_measure:
        key = topic.key if topic.key in measures else measures[0]
        metric_id = st.selectbox("Measure", measures, index=measures.index(key),
                                 format_func=_title, key=f"{topic.id}_measure", width=420)
    for section in topic.sections:
        if section.detail:
            # a detail below the page's main story: folded, one click away
            with st.expander(section.title or "Details"):
                if section.caption:
                    st.caption(section.caption)
                _section(topic, section, ctx, metric_id)
            continue
        if section.title:
            st.subheader(section.title)
        if section.caption:
            st.caption(section.caption)
        _section(topic, section, ctx, metric_id)
    st.caption(render.suppression_note(ctx.threshold))


def _section(topic: Topic, section: Section, ctx: PageContext, metric_id: str) -> None:
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
            _show(p)
    elif section.kind == "breakdown":
        dim = render.breakdown_picker(_choices(topic, ctx), _default_breakdown(topic, ctx),
                                      topic.id, group_width=420)
        _show(data.view(panels.breakdown, req, metric_id, dim))
    elif section.kind == "compare":
        dim = render.breakdown_picker(_choices(topic, ctx), _default_breakdown(topic, ctx),
                                      topic.id)
        _show(data.view(panels.compare, req, measures, dim, section.text))
    elif section.kind == "side_by_side":
        shown = data.view(panels.this_year_and_last, req, measures)
        cols = st.columns(min(2, len(shown)) or 1)
        for i, p in enumerate(shown):
            with cols[i % len(cols)]:
                _show(p)
    elif section.kind == "view":
        args = ()
        if section.choices:
            choice = st.segmented_control(section.choice_label, list(section.choices),
                                          key=f"{topic.id}_{section.key}",
                                          required=True, default=section.choices[0])
            args = (choice or section.choices[0],)
        result = data.view(section.view, req, *args)
        for p in result if isinstance(result, list) else [result]:
            _show(p)
    elif section.kind == "leaderboard":
        board = data.view(section.view, req, ctx.settings)
        tier = st.segmented_control(section.choice_label, board.tiers,
                                    key=f"{topic.id}_{section.key}",
                                    default=board.tiers[0] if board.tiers else None)
        _show(board.panel(tier))
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
    render.headline_cards(data.view(panels.headlines, req, (metric_id,)),
                          per_row=topic.cards_per_row, ctx=ctx)
    for section in topic.sections:
        for p in data.view(section.view, req, metric_id, dim):
            _show(p)
    st.caption(render.suppression_note(ctx.threshold))
