"""The app shell and the Overview page, in AppTest on the demo warehouse."""

from conftest import demo_app, export_rows


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
