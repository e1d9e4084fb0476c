"""Accounts: registration on CaliforniaColleges.edu and recent use, this year against last,
and by grade, school, district or student group."""

from ccgi_dash.topics import accounts
from ccgi_dash.ui import topic

topic.render_topic(accounts.TOPIC)
