"""Everything a user can name is documented (Datasette's habit)."""

from pathlib import Path

from ccgi_dash.datasets import DATASETS, DIMENSIONS
from ccgi_dash.metrics import METRICS, POPULATIONS, RANKINGS
from ccgi_dash.settings import IngestSettings, PrivacySettings, SftpSettings

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_every_metric_ranking_and_dimension_is_documented():
    text = (DOCS / "metrics.md").read_text()
    for name in [*METRICS, *RANKINGS, *DIMENSIONS]:
        assert f"`{name}`" in text, name


def test_every_dataset_and_setting_is_documented():
    text = (DOCS / "data-format.md").read_text() + (DOCS / "delivery.md").read_text()
    for name in DATASETS:
        assert name in text, name
    for cls in (IngestSettings, PrivacySettings, SftpSettings):
        for field in cls.__dataclass_fields__:
            assert field in text, f"{cls.__name__}.{field}"


def test_each_metric_has_its_one_line():
    """One line per metric: its id, its question and its population, as the catalogue says."""
    lines = (DOCS / "metrics.md").read_text().splitlines()
    for m in METRICS.values():
        row = [line for line in lines if line.startswith(f"| `{m.id}` |")]
        assert len(row) == 1, m.id
        assert m.help in row[0] and m.population_title in row[0], m.id


def test_populations_that_are_counts_are_documented():
    text = (DOCS / "metrics.md").read_text()
    for p in POPULATIONS.values():
        if p.count_of:
            assert f"| {p.title} | `{p.count_of}`" in text, p.id
