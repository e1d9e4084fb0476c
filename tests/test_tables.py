"""Tables that hold numbers (``ccgi_dash.tables``): numeric columns are numbers underneath,
read exactly as the panel wrote them on screen (``*``, ``--`` kept), and download as numbers
with the export contract's empty cells and ``suppressed`` flag. Checked on small hand-made
tables, and on every Table tab a topic page builds on the demo."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from ccgi_dash import tables
from ccgi_dash.privacy import to_csv_bytes

TABLE = pd.DataFrame({
    "District": ["Alpha", "Beta", "Gamma", "Delta", "Epsilon"],
    "CDS code": ["10621660000000", "10621740000000", "1", "22", "333"],
    "Completed": ["1,234", "*", "12", "--", "980"],
    "Seniors": ["10,870", "7", "101", "--", "1,020"],
    "Rate": ["11.4%", "*", "7.3%", "--", "96.1%"],
    "Change (points)": ["+1.2", "*", "-0.4", "--", "+0.0"],
    "Rank": pd.array([2, None, 3, None, 1], dtype="Int64"),
    "CIP code": ["11.0701", "52.0201", "26.0101", "11.0701", "13.0101"],
})


def _display(styler) -> list[list[str]]:
    body = styler._translate(False, False)["body"]
    return [[cell["display_value"] for cell in row[1:]] for row in body]


def test_numeric_columns_are_numbers_and_codes_stay_text():
    t = tables.typed(TABLE)
    assert list(t.columns) == ["Completed", "Seniors", "Rate", "Change (points)", "Rank"]
    assert t.columns["Rate"] == tables.Column("percent", 1)
    assert t.columns["Change (points)"] == tables.Column("signed", 1)
    assert t.values["Rate"].tolist()[0] == 11.4 and t.values["Rate"].tolist()[4] == 96.1
    assert pd.isna(t.values.loc[1, "Rate"]) and pd.isna(t.values.loc[3, "Rate"])
    assert t.values.loc[0, "Completed"] == 1234 and t.values.loc[0, "Seniors"] == 10870
    assert t.values.loc[2, "Change (points)"] == -0.4
    # a code column is text, even where some codes look like small counts
    assert t.values["CDS code"].tolist() == TABLE["CDS code"].tolist()
    assert t.values["CIP code"].tolist() == TABLE["CIP code"].tolist()
    assert t.suppressed.tolist() == [False, True, False, False, False]


def test_the_screen_reads_what_the_panel_wrote_and_sorts_by_the_numbers():
    styler = tables.styled(TABLE)
    shown = _display(styler)
    expected = TABLE.astype(object).where(TABLE.notna(), "").astype(str).values.tolist()
    assert shown == expected
    # sorted by rate ascending, numbers come in numeric order (text would put 11.4% first)
    data = styler.data
    order = data.sort_values("Rate", kind="stable")["District"].tolist()
    # hidden and empty groups hold -inf under their mark (a missing number would show the
    # grid's placeholder): they sort below every number
    assert order == ["Beta", "Delta", "Gamma", "Alpha", "Epsilon"]
    assert data.loc[1, "Completed"] == data.loc[3, "Seniors"] == float("-inf")
    assert data.loc[3, "Change (points)"] == float("-inf") and pd.isna(data.loc[1, "Rank"])
    assert sorted(TABLE["Rate"].tolist())[0] == "*"  # what a text sort would give


def test_a_table_without_numbers_is_left_as_it_is():
    names = pd.DataFrame({"School": ["A", "B"], "Code": ["10621661030659", "x"]})
    assert tables.styled(names) is names
    assert tables.for_download(names) is names


def test_downloads_hold_numbers_as_the_export_contract_has_them():
    out = tables.for_download(TABLE)
    assert list(out.columns) == ["District", "CDS code", "Completed", "Seniors", "Rate (%)",
                                 "Change (points)", "Rank", "CIP code", "suppressed"]
    assert out["Completed"].dtype == "Int64" and out["Seniors"].tolist()[0] == 10870
    assert out["suppressed"].tolist() == [False, True, False, False, False]
    back = pd.read_csv(io.BytesIO(to_csv_bytes(out)), encoding="utf-8-sig",
                       dtype={"CDS code": str, "CIP code": str})
    # hidden (*) and empty (--) cells are empty; the row of a hidden cell says suppressed
    assert back.loc[1, ["Completed", "Rate (%)", "Change (points)"]].isna().all()
    assert bool(back.loc[1, "suppressed"]) is True
    assert back.loc[3, ["Completed", "Rate (%)"]].isna().all()
    assert bool(back.loc[3, "suppressed"]) is False
    assert back["Rate (%)"].tolist()[0] == 11.4 and back["Seniors"].tolist()[4] == 1020
    assert back["CDS code"].tolist()[0] == "10621660000000"


def test_a_column_that_would_not_read_back_as_written_stays_text():
    odd = pd.DataFrame({"Share": ["5%", "12.50%", "7.1%"], "N": ["1,00", "2", "3"]})
    t = tables.typed(odd)
    assert t.columns == {}  # "5%" with "12.50%": one format cannot write both
    assert tables.styled(odd) is odd


@pytest.mark.usefixtures("app_env")
@pytest.mark.parametrize("page", ["financial_aid", "applications", "ag_eligibility",
                                  "favorites", "assessments", "accounts", "equity"])
def test_every_table_tab_shows_its_text_over_numbers(page):
    """On every topic page of the demo, each table with a rate column has numbers underneath
    (it sorts as numbers) and shows rates as "12.3%", ``*`` or ``--``."""
    from conftest import demo_app, reveal, shown

    at = reveal(demo_app("coe", f"app_pages/{page}.py"))
    assert not at.exception
    checked = 0
    for element in at.dataframe:
        values, text = element.value, shown(element)
        for col in [c for c in values.columns if "Rate" in str(c) or "rate" in str(c)]:
            if values[col].dtype.kind != "f":
                continue
            assert text[col].str.fullmatch(r"\d+\.\d%|\*|--|").all(), (page, col)
            numbers = values[col][values[col].abs() != float("inf")].dropna()
            marked = values[col] == float("-inf")
            assert text[col][marked].isin(["*", "--"]).all(), (page, col)
            assert (text[col][numbers.index] == [f"{v:.1f}%" for v in numbers]).all()
            checked += 1
    assert checked, f"no rate column on {page}"
