"""A ten-line Streamlit app for ``bench_browser --phases floor``: the dashboard's sidebar
interaction (a "District" multiselect and a "Clear filters" button) with nothing behind it.

What the browsers spend on this app per click is what any Streamlit page costs them, so the
floor phase says how much of phase (b)'s time no change to the dashboard can remove."""

import streamlit as st

OPTIONS = [f"District {i:02d}" for i in range(1, 41)]


def _clear() -> None:
    st.session_state["district"] = []


with st.sidebar:
    chosen = st.multiselect("District", OPTIONS, key="district")
    st.button("Clear filters", on_click=_clear)
st.title("Floor")
st.write(f"{len(chosen)} chosen: {', '.join(chosen) or 'none'}")
