"""a-g eligibility: UC and CSU eligible seniors and students on track in grades 9-11, week by
week against last year, by district, school, grade and student group."""

from ccgi_dash.topics import ag
from ccgi_dash.ui import topic

topic.render_topic(ag.TOPIC)
