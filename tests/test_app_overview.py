"""The app shell and the Overview page, in AppTest on the demo warehouse."""

from conftest import card, demo_app, export_rows, pct


def test_overview_renders_funnel_and_cards(app_env):
    at = demo_app("coe")
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "FAFSA/CADAA submitted" in labels
    assert any("Synthetic data" in i.value for i in at.info)


def test_district_filter_changes_numbers_as_export_reports(app_env, demo_data):
    at = demo_app("coe")
    before = next(m for m in at.metric if m.label == "FAFSA/CADAA submitted").value
    at.sidebar.multiselect[0].set_value(["1062166"]).run()
    assert not at.exception
    card = next(m for m in at.metric if m.label == "FAFSA/CADAA submitted")
    rows = export_rows(demo_data, "--metric", "aid_submitted", "--where", "district=1062166")
    assert card.value == f"{rows[0]['rate'] * 100:.1f}%"
    assert card.value != before


HEADLINES = {  # card title -> (metric id, how its population reads)
    "Accounts registered": ("account_registered", "students in grades 6-12"),
    "FAFSA/CADAA submitted": ("aid_submitted", "seniors"),
    "FAFSA/CADAA completed": ("aid_completed", "seniors"),
    "Applied anywhere": ("any_app_submitted", "seniors"),
}


def card_lines(at) -> dict[str, str]:
    """Each card's label -> the caption under it (population, county, last year, goal).
    Cards and their captions come in page order, one caption per card."""
    captions = [c.value for c in at.caption if c.value.startswith("of ")]
    labels = [m.label for m in at.metric]
    assert len(captions) == len(labels), (labels, captions)
    return dict(zip(labels, captions, strict=True))


def test_each_card_names_its_population(app_env, demo_data):
    at = demo_app("coe")
    assert not at.exception
    lines = card_lines(at)
    for title, (metric_id, noun) in HEADLINES.items():
        rows = export_rows(demo_data, "--metric", metric_id)
        assert lines[title].startswith(f"of {rows[0]['denominator']:,} {noun}"), lines[title]
        # the coordinator sees the whole county: no second, county figure
        assert "county:" not in lines[title]
    # the header names whose numbers these are
    assert any("All " in m.value and "districts of the county" in m.value
               for m in at.markdown)


def test_district_leader_sees_district_name_and_county_rate(app_env, demo_data):
    at = demo_app("district:1062166")
    assert not at.exception
    assert any("Fresno Unified" in m.value for m in at.markdown), "the header names the district"
    lines = card_lines(at)
    for title, (metric_id, noun) in HEADLINES.items():
        own = export_rows(demo_data, "--metric", metric_id, "--where", "district=1062166")
        county = export_rows(demo_data, "--metric", metric_id)
        assert card(at, title) == pct(own[0])
        assert lines[title].startswith(f"of {own[0]['denominator']:,} {noun} · county: "
                                       f"{pct(county[0])}"), lines[title]
    # the one-district scope's filter says the district's name, not "All districts"
    district = next(w for w in at.sidebar.multiselect if w.label == "District")
    assert district.placeholder == "Fresno Unified"


def test_grade_filter_names_the_grades_of_the_population(app_env, demo_data):
    at = demo_app("coe", query={"grade_level": ["9", "10"]})
    assert not at.exception
    rows = export_rows(demo_data, "--metric", "account_registered", "--where", "grade_level=9",
                       "--where", "grade_level=10")
    assert card_lines(at)["Accounts registered"].startswith(
        f"of {rows[0]['denominator']:,} students in grades 9-10")


def test_card_shows_goal_and_pace_when_a_goal_is_set(app_env, demo_data, tmp_path,
                                                      monkeypatch):
    from ccgi_dash import pace
    from ccgi_dash.metrics import Filters, Request
    from ccgi_dash.scope import Scope
    from ccgi_dash.settings import load_settings
    from ccgi_dash.store import Warehouse

    root = tmp_path / "demo-with-goal"
    root.mkdir()
    for entry in demo_data.root.iterdir():
        if entry.name != "settings.toml":
            (root / entry.name).symlink_to(entry)
    (root / "settings.toml").write_text('[goals.aid_completed]\ngoal = "65%"\n'
                                        'deadline = "cal_grant"\n', encoding="utf-8")
    monkeypatch.setenv("CCGI_DEMO_DIR", str(root))
    at = demo_app("coe")
    assert not at.exception
    lines = card_lines(at)
    settings = load_settings(root)
    req = Request(Scope("demo", all_districts=True, dataset="demo"), Filters(), None,
                  settings.privacy.suppression_threshold)
    expected = pace.pace(Warehouse(root), req, "aid_completed", settings)
    assert expected.goal.text.startswith("65")
    assert expected.card_text in lines["FAFSA/CADAA completed"]
    word = {True: "not on pace" not in expected.card_text and "on pace" in expected.card_text,
            False: "not on pace" in expected.card_text, None: True}[expected.on_pace]
    assert word, expected.card_text
    assert "Goal" not in lines["FAFSA/CADAA submitted"], "no goal set for this card"
