"""Topic pages, declared: what each dashboard page asks and shows, as data.

A ``Topic`` names its page's title, question, population noun, key metric, breakdowns and
sections; its measures are the catalogue's metrics that name the topic
(``metrics.metrics_of``), so a metric added to the catalogue appears on its page with no
other edit. ``ccgi_dash.ui.topic.render`` is the one renderer that draws any declared topic;
a page file only hands it the declaration.

Shared panels live in ``topics.panels``; a topic module may import from it (and from the
catalogue, views and charts) but never from another topic module. Nothing here imports
streamlit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from ccgi_dash import metrics

SectionKind = Literal["trends", "breakdown", "compare", "side_by_side", "view", "leaderboard",
                      "equity", "students_link"]


@dataclass(frozen=True)
class Section:
    """One block of a topic page, under its subheader.

    ``kind`` says how the renderer draws it: ``trends`` (the chosen measure this year
    against last), ``breakdown`` (the chosen measure by the chosen dimension), ``compare``
    (every measure side by side per group; ``text`` is the chart's question),
    ``side_by_side`` (every measure's trends in columns), ``view`` (a topic's own data
    function ``view(wh, request[, choice])`` returning a panel or a list of them, with an
    optional choice among ``choices``), ``leaderboard`` (Race to Submit's tiers), ``equity``
    (any metric by any group), ``students_link`` (a link to the named lists, labelled
    ``text``, for roles entitled to them).
    """

    kind: SectionKind
    title: str = ""
    caption: str = ""
    view: Callable[..., Any] | None = None
    choices: tuple[str, ...] = ()
    choice_label: str = ""
    key: str = ""
    """The choice widget's key is ``<topic id>_<key>``, so the choice survives reruns."""
    text: str = ""
    detail: bool = False
    """A detail below the page's main story, drawn folded (an expander titled ``title``), so
    the main story fits in about two screens."""
    half: bool = False
    """Drawn in half the page's width, beside the next ``half`` section (on a narrow screen
    the two stack): two charts of the main story read side by side within two screens."""
    more: str = ""
    """The title of the expander folding ``more_view``'s panels below the section
    (secondary material, one click away)."""
    more_view: Callable[..., Any] | None = None
    """The panels folded under ``more``, asked (with the section's choice) only while the
    expander is open, so a closed one costs no query."""


@dataclass(frozen=True)
class Topic:
    """One dashboard page about one topic of the catalogue (``Metric.topics``)."""

    id: str
    """The topic id metrics name, and the key prefix of the page's widgets."""
    page: str
    """The page's id in the shell's page declarations (``ui.shell.PAGES``)."""
    title: str
    question: str
    noun: str
    """Who the page's numbers are of ("seniors"): the empty state names them."""
    key: str | None
    """The measure a page opens on (None: the page shows all its measures at once)."""
    breakdowns: tuple[str, ...]
    """Dimensions offered by the "Break down by" control; "group" asks for a student group."""
    default_breakdown: str | None
    """None: District for a county view, School for one district."""
    sections: tuple[Section, ...]
    cards_per_row: int = 4
    marks: Callable[[date | None], list[tuple[date, str]]] | None = None
    """The season's dates drawn on the curves (deadlines), for the as-of drop."""

    @property
    def measures(self) -> tuple[str, ...]:
        """The metrics of this topic, from the catalogue (read at each call, so a catalogue
        entry added later is on the page)."""
        return metrics.metrics_of(self.id)

    @property
    def picks_measure(self) -> bool:
        return self.key is not None
