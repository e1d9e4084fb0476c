"""CCGI college and career dashboard for California County Offices of Education.

The package holds all logic: the drop contract (``datasets``), loading (``loader``), the
warehouse (``store``), the metric catalogue (``metrics``), suppression (``privacy``), and the
Streamlit layer (``ccgi_dash.ui``, the only place that imports streamlit).
"""

__version__ = "0.1.0"
