"""Small-cell and complementary suppression, and formula-safe CSV (access-and-privacy.md)."""

import io

import pandas as pd
import pytest

from ccgi_dash.privacy import (
    format_count,
    format_rate,
    neutralise,
    suppress,
    to_csv_bytes,
)


def frame(sizes, nums=None, dim="district"):
    nums = nums or [s // 2 for s in sizes]
    return pd.DataFrame({
        dim: [f"g{i}" for i in range(len(sizes))],
        "numerator": nums,
        "denominator": sizes,
        "rate": [n / d if d else None for n, d in zip(nums, sizes)],
    })


def hidden(out):
    return list(out.loc[out["suppressed"], out.columns[0]])


def test_groups_of_one_to_ten_are_hidden_and_eleven_is_shown():
    out = suppress(frame([1, 10, 11, 500, 600]), ["district"], 11)
    # g0 (1) and g1 (10) are primary; together 11 students, so no complement needed.
    assert hidden(out) == ["g0", "g1"]
    assert out.loc[2, "numerator"] == 5 and not out.loc[2, "suppressed"]


def test_hidden_cells_lose_numerator_and_rate_but_keep_group_size():
    out = suppress(frame([5, 400, 300]), ["district"], 11)
    row = out.iloc[0]
    assert row["suppressed"] and row["numerator"] is None and row["rate"] is None
    assert row["denominator"] == 5


def test_single_hidden_part_forces_the_next_smallest_part():
    out = suppress(frame([5, 400, 300, 50]), ["district"], 11)
    assert hidden(out) == ["g0", "g3"]


def test_hidden_parts_below_threshold_together_force_another():
    # 3 + 4 = 7 < 11: the smallest visible part (20) must go too.
    out = suppress(frame([3, 4, 20, 300]), ["district"], 11)
    assert hidden(out) == ["g0", "g1", "g2"]


def test_hidden_parts_reaching_threshold_need_nothing_more():
    out = suppress(frame([6, 7, 20, 300]), ["district"], 11)
    assert hidden(out) == ["g0", "g1"]


def test_zero_groups_are_not_suppressed_but_read_double_dash():
    out = suppress(frame([0, 300, 200]), ["district"], 11)
    assert hidden(out) == []
    assert format_rate(None, 0, False) == "--"


def test_trend_points_are_not_complements_of_each_other():
    f = frame([5, 300, 300], dim="drop_date")
    out = suppress(f, ["drop_date"], 11)
    assert hidden(out) == ["g0"]


def test_two_dimensions_suppress_along_both_directions():
    f = pd.DataFrame({
        "district": ["A", "A", "B", "B"],
        "gender": ["F", "M", "F", "M"],
        "numerator": [2, 100, 100, 100],
        "denominator": [5, 200, 200, 200],
    })
    f["rate"] = f["numerator"] / f["denominator"]
    out = suppress(f, ["district", "gender"], 11)
    # A/F is primary; its row partner A/M and column partner B/F follow; then B/M closes
    # the square, since B/F alone would otherwise be recoverable within district B.
    assert out["suppressed"].tolist() == [True, True, True, True]


def test_schools_are_complemented_within_their_district():
    f = pd.DataFrame({
        "school": ["s1", "s2", "s3", "s4"],
        "school_district": ["D1", "D1", "D2", "D2"],
        "numerator": [1, 50, 80, 90],
        "denominator": [4, 100, 150, 160],
    })
    f["rate"] = f["numerator"] / f["denominator"]
    out = suppress(f, ["school"], 11)
    assert out.loc[out["suppressed"], "school"].tolist() == ["s1", "s2"]


def test_threshold_is_a_setting():
    out = suppress(frame([15, 400, 300]), ["district"], threshold=20)
    assert hidden(out) == ["g0", "g2"]


def test_rankings_judge_each_entry_by_its_students():
    f = pd.DataFrame({"item": ["UCLA", "UC Merced"], "students": [120, 4],
                      "share": [0.4, 0.01]})
    out = suppress(f, [], 11, count_col="students")
    assert out["suppressed"].tolist() == [False, True]
    assert out.loc[1, "students"] is None and out.loc[1, "share"] is None


@pytest.mark.parametrize("value,expected", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+1", "'+1"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"), ("Fresno High", "Fresno High"),
    (12, 12),
])
def test_formula_cells_are_neutralised(value, expected):
    assert neutralise(value) == expected


def test_csv_bytes_are_formula_safe_and_excel_friendly():
    data = to_csv_bytes(pd.DataFrame({"School": ["=cmd|' /C calc'!A0", "Roosevelt High"],
                                      "Rate": ["*", "45.0%"]}))
    assert data.startswith("\ufeff".encode())
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert back["School"].tolist() == ["'=cmd|' /C calc'!A0", "Roosevelt High"]
    assert back["Rate"].tolist() == ["*", "45.0%"]


def test_display_strings():
    assert format_rate(0.4567, 100, False) == "45.7%"
    assert format_rate(None, 5, True) == "*"
    assert format_count(1234, False) == "1,234"
    assert format_count(None, True) == "*"
