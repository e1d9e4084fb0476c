"""Career assessments: have students taken one, and which?

Completion is the metric ``career_assessment`` (any row in the career assessments file);
"which" is the ranked list ``assessments``, counted in distinct students, so a student who
took the Interest Profiler twice counts once for it. The completion date gives a curve since
July 1 against last year beside the weekly one.
"""

from __future__ import annotations

from ccgi_dash.metrics import Request
from ccgi_dash.store import Warehouse
from ccgi_dash.topics import Section, Topic, panels


def which(wh: Warehouse, req: Request) -> panels.Panel:
    """Which career assessments students completed, in distinct students."""
    return panels.ranked(wh, req, "assessments")


TOPIC = Topic(
    id="assessments", page="assessments", title="Career assessments",
    question="Have students completed a career assessment on CaliforniaColleges.edu, and which "
             "ones?",
    noun="students", key=None,
    breakdowns=("grade_level", "school", "district", "group"), default_breakdown="grade_level",
    sections=(Section("trends", "This year against last year", half=True),
              Section("breakdown", "Where students stand", half=True),
              Section("view", "Which assessments students completed", view=which,
                      detail=True)),
    cards_per_row=3,
)
