"""The few style rules the theme in ``.streamlit/config.toml`` cannot express.

Why each rule is here:

* **Caption contrast** (WCAG 1.4.3, a11y finding A2): Streamlit draws ``st.caption`` and the
  metric's delta description in its "faded" text colour, derived from ``textColor`` at reduced
  strength (#797f85 on white, 4.0:1). The rule gives them a solid #4f5661 (7.3:1 on white,
  6.7:1 on the sidebar's #F3F6F9).
* **Compact cards on narrow screens** (issue 11): below 640 px Streamlit stacks every column
  full width, so eight headline cards fill a phone's first screen. Card rows keep two cards
  side by side there, with a smaller value and tighter padding; titles and values wrap
  instead of being cut off ("91,6").
* **No sideways scrolling**: long words (school names) wrap.
* **Filters keep their height** (issue 11): Streamlit gives a focused multiselect's text box
  a 48 px minimum width and a blurred one 8 px, so a filter holding a district took two lines
  while focused and one after. Picking a district leaves the focus there; the click on the
  next filter then made the sidebar shorter under the pointer, and, with the sidebar scrolled
  to its end (Grade lies below the first screen at 1440x900), the scroll jumped and closed
  the list the click had just opened. One minimum in both states: the box still takes the
  rest of its line to type in.
* **A grid for a figure too wide for a phone** (the Equity heat map): below 640 px the
  figure's container is hidden and a grid of the same cells shown (``render.chart_and_table``
  ``narrow``); the grid scrolls inside itself, the page never sideways.
* **Two screens** (issue 11): Streamlit pads the page with 6rem above and 10rem below; 3.5rem
  above (clear of the header bar) and 3rem below give that room back to the page's story.

Only fixed CSS, no data, goes through ``st.html``.
"""

from __future__ import annotations

import streamlit as st

CAPTION_COLOUR = "#4f5661"
"""7.3:1 on #FFFFFF, 6.7:1 on #F3F6F9: above WCAG AA's 4.5:1 for small text."""

CSS = f"""
<style>
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p,
[data-testid="stMetricDeltaDescription"], [data-testid="stWidgetLabel"] small {{
  color: {CAPTION_COLOUR} !important;
  opacity: 1 !important;
}}
[data-testid="stMetricLabel"] p, [data-testid="stMetricValue"] > div,
[data-testid="stMetricDeltaDescription"],
[data-testid="stMetricDeltaDescription"] .stMarkdownEllipsis,
[data-testid="stMetricDeltaDescription"] p {{
  white-space: normal !important;
  overflow: visible !important;
  text-overflow: clip !important;
}}
[data-testid="stMarkdownContainer"] p {{ overflow-wrap: anywhere; }}
[data-testid="stMultiSelect"] input[role="combobox"] {{ min-width: 8px !important; }}
[data-testid="stMain"] [data-testid="stPageLink-NavLink"],
[data-testid="stMain"] [data-testid="stPageLink-NavLink"] span:not([data-testid="stIconMaterial"]),
[data-testid="stMain"] [data-testid="stPageLink-NavLink"] p {{
  white-space: normal !important;
  overflow: visible !important;
  text-overflow: clip !important;
  height: auto !important;
}}
.st-key-ccgi_close_sidebar {{ display: none !important; }}
[data-testid="stMainBlockContainer"] {{
  padding-top: 3.5rem !important;
  padding-bottom: 3rem !important;
}}
.st-key-ccgi_cards [data-testid="stVerticalBlockBorderWrapper"] [data-testid="stVerticalBlock"] {{
  gap: 0.4rem !important;
}}
[class*="st-key-ccgi_narrow_only-"] {{ display: none !important; }}
@media (max-width: 640px) {{
  [class*="st-key-ccgi_wide_only-"] {{ display: none !important; }}
  [class*="st-key-ccgi_narrow_only-"] {{ display: flex !important; }}
  .st-key-ccgi_cards [data-testid="stHorizontalBlock"] {{
    flex-wrap: wrap !important;
    gap: 0.5rem !important;
  }}
  .st-key-ccgi_cards [data-testid="stColumn"] {{
    min-width: calc(50% - 0.25rem) !important;
    width: calc(50% - 0.25rem) !important;
    max-width: calc(50% - 0.25rem) !important;
    flex: 0 0 calc(50% - 0.25rem) !important;
  }}
  .st-key-ccgi_cards [data-testid="stVerticalBlockBorderWrapper"],
  .st-key-ccgi_cards [data-testid="stVerticalBlock"] {{
    gap: 0.1rem !important;
  }}
  .st-key-ccgi_cards [data-testid="stMetricValue"] {{ font-size: 1.35rem !important; }}
  .st-key-ccgi_cards [data-testid="stMetricLabel"] p {{ font-size: 0.8rem !important; }}
  .st-key-ccgi_cards [data-testid="stCaptionContainer"] p {{ font-size: 0.72rem !important; }}
  .st-key-ccgi_cards [data-testid="stMetricDelta"] {{ font-size: 0.75rem !important; }}
  h1 {{ font-size: 1.6rem !important; padding-top: 0.5rem !important; }}
  [data-testid="stAlertContainer"] {{ padding: 0.5rem 0.75rem !important; }}
}}
</style>
"""


def apply() -> None:
    """Add the style rules to this run's page (call once per run, before the page)."""
    st.html(CSS)
