"""Equity: any metric across any student group: the gap to all students, where it is by
district, and whether it is closing."""

from ccgi_dash.topics import equity
from ccgi_dash.ui import topic

topic.render_topic(equity.TOPIC)
