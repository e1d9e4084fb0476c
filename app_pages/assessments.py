"""Career assessments: how many students have completed one, this year against last, by
grade, school, district or student group, and which assessments."""

from ccgi_dash.topics import assessments
from ccgi_dash.ui import topic

topic.render_topic(assessments.TOPIC)
