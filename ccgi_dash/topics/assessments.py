"""Career assessments: have students taken one, and which?

Completion is the metric ``career_assessment`` (any row in the career assessments file);
"which" is the ranked list ``assessments`` (``favorites.ranked``), counted in distinct
students, so a student who took the Interest Profiler twice counts once for it. The
completion date gives a curve since July 1 against last year beside the weekly one.
"""

from __future__ import annotations

METRIC = "career_assessment"
RANKING = "assessments"
