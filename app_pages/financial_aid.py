"""Financial aid: FAFSA/CADAA submitted and completed, opt-outs and AB 469 compliance, this
year against last, by district, school and student group, and a Race to Submit leaderboard."""

from ccgi_dash.topics import aid
from ccgi_dash.ui import topic

topic.render_topic(aid.TOPIC)
