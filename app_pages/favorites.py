"""Favorites: how many students have favorited a college, a career or a major, and which."""

from ccgi_dash.topics import favorites
from ccgi_dash.ui import topic

topic.render_topic(favorites.TOPIC)
