"""A ten-line Streamlit app for ``bench_browser --phases floor``: the dashboard's sidebar
interaction (a "District" multiselect and a "Clear filters" button) with nothing behind it.

What the browsers spend on this app per click is what any Streamlit page costs them, so the
floor phase says how much of phase (b)'s time no change to the dashboard can remove."""

import time

import streamlit as st

OPTIONS = [f"District {i:02d}" for i in range(1, 41)]


def _clear() -> None:
    st.session_state["district"] = []


with st.sidebar:
    chosen = st.multiselect("District", OPTIONS, key="district")
    st.button("Clear filters", on_click=_clear)
# a run as long as a warm dashboard page's (50-90 ms): a run of a few milliseconds can start
# and end within one frame of the browser, which then never shows it running, and the
# benchmark's settle signal (a run seen since the click) would wait in vain
time.sleep(0.05)
st.title("Floor")
st.write(f"{len(chosen)} chosen: {', '.join(chosen) or 'none'}")
