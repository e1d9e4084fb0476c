"""a-g eligibility: UC and CSU eligible seniors, and students in grades 9-11 on track.

a-g status carries no date in a drop, so its trend is the weekly one (the metric at each
drop) rather than a cumulative curve. The panels are the shared ones of ``topics.common``; this
module names the page's measures and adds the grade breakdown, which matters here (on track
in grade 9 is not on track in grade 11).
"""

from __future__ import annotations

from ccgi_dash.topics.common import (
    GROUPS,
    Panel,
    breakdown,
    default_breakdown,
    dimension_title,
    headlines,
    metric_title,
    population,
    trends,
)

__all__ = ["BREAKDOWNS", "GROUPS", "KEY", "MEASURES", "Panel", "breakdown", "default_breakdown",
           "dimension_title", "headlines", "metric_title", "population", "trends"]
"""The shared panels are re-exported so the page reads ``ag.<name>`` throughout."""

MEASURES: tuple[str, ...] = ("uc_eligible", "csu_eligible", "uc_on_track", "csu_on_track")
KEY = "csu_eligible"
"""The page's key metric: CSU a-g completion, the wider door of the two."""

BREAKDOWNS: dict[str, str] = {"District": "district", "School": "school",
                              "Grade": "grade_level", "Student group": ""}
"""Breakdown widget label -> dimension id; "" means: ask which student group dimension."""
