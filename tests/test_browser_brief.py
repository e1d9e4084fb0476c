"""The Overview's "Download brief (PDF)" clicked in a real browser on a filtered view.

The file is made only when the button is clicked (Streamlit calls the deferred function), so
only a browser can show that the button briefs the page's own view: a coordinator opens a
link to the Overview filtered to Fresno Unified, grade 12 and socioeconomically
disadvantaged students, clicks the button, and the PDF the browser saves states those
filters and carries ``export``'s numbers for the same view. Marked ``browser``.
"""

from __future__ import annotations

import re

import pytest
from test_brief import NARROW, pct, pdf_text
from test_browser import (  # noqa: F401  (browser and demo_url are fixtures)
    browser,
    demo_url,
    enter_demo,
    new_page,
)

from tests.conftest import FRESNO_UNIFIED, export_rows

pytestmark = pytest.mark.browser


def test_the_overview_button_briefs_the_pages_filters(browser, demo_url, demo_data):  # noqa: F811
    link = f"/?district={FRESNO_UNIFIED}&grade_level=12&sed=Y"
    with new_page(browser) as page:
        enter_demo(page, demo_url + link)
        button = page.get_by_role("button", name=re.compile("Download brief"))
        button.wait_for()
        with page.expect_download(timeout=60_000) as info:
            button.click()
        download = info.value
        name = download.suggested_filename
        blob = open(download.path(), "rb").read()
    assert name == f"brief-{FRESNO_UNIFIED}-grade12-sed-Y-2026-11-20.pdf"
    reader, text = pdf_text(blob)
    assert len(reader.pages) == 1
    assert "Students: Grade 12 · Socioeconomically disadvantaged" in text
    row = next(r for r in export_rows(demo_data, "--metric", "aid_completed", "--by",
                                      "district", *NARROW)
               if r["district"] == FRESNO_UNIFIED)
    assert f"{pct(row)} {row['numerator']:,} of {row['denominator']:,}" in text
