"""College applications: UC, CSU and community college submissions this year against last,
the campuses applied to, and the a-g eligible seniors who have not applied."""

from ccgi_dash.topics import apps
from ccgi_dash.ui import topic

topic.render_topic(apps.TOPIC)
