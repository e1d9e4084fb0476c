"""a-g eligibility: UC and CSU eligible seniors, and students in grades 9-11 on track.

a-g status carries no date in a drop, so its trend is the weekly one (the metric at each
drop) rather than a cumulative curve. The grade breakdown matters here (on track in grade 9
is not on track in grade 11).
"""

from __future__ import annotations

from ccgi_dash.topics import Section, Topic

TOPIC = Topic(
    id="ag", page="ag_eligibility", title="a-g eligibility",
    question="Which seniors have completed the a-g courses UC and CSU require, and which "
             "students in grades 9-11 are on track to.",
    noun="students in grades 9-12", key="csu_eligible",
    breakdowns=("district", "school", "grade_level", "group"), default_breakdown=None,
    sections=(Section("trends", "This year against last year", half=True),
              Section("breakdown", "Where students stand", half=True)),
)
"""The key metric is CSU a-g completion, the wider door of the two."""
