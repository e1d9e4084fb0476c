"""The Streamlit entry point: ``streamlit run app.py``. All logic lives in ``ccgi_dash``."""

from ccgi_dash.ui.shell import main

main()
