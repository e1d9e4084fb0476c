"""The canonical CCGI drop contract, as data.

Every reader, validator, generator and test takes the shape of the ten datasets from here,
so the contract in ``docs/data-format.md`` has exactly one machine-readable twin. Changing a
column means changing this module and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["ssid", "cds", "grade", "school_year", "date", "flag", "enum", "text"]

NOT_REPORTED = "Not reported"
"""The group that empty subgroup values form (metrics.md): "not reported", never "N"."""


@dataclass(frozen=True)
class Column:
    """One canonical column: its name, whether a file must carry it, and how to check it."""

    name: str
    required: bool
    kind: Kind
    values: tuple[str, ...] = ()
    pii: bool = False
    allow_empty: bool = False
    """A required column whose cells may still be empty (e.g. application_type for opt-outs)."""


@dataclass(frozen=True)
class Dataset:
    """One of the ten files of a drop, with the columns that make a row unique."""

    name: str
    title: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    per_student: bool = False

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _c(name: str, kind: Kind = "text", *, req: bool = False, values: tuple[str, ...] = (),
       pii: bool = False, allow_empty: bool = False) -> Column:
    return Column(name, req, kind, values, pii, allow_empty)


YN = ("Y", "N")
GENDERS = ("M", "F", "X")
RACES = ("AA", "AI", "AS", "FI", "HI", "PI", "WH", "MR", "NR")
EL_STATUSES = ("EO", "IFEP", "EL", "RFEP", "TBD")
AID_TYPES = ("FAFSA", "CADAA")
AID_STATUSES = ("Started", "Submitted", "Completed", "Opted Out")
APP_STATUSES = ("Started", "Submitted")
SEGMENTS = ("UC", "CSU", "CCC", "Private CA", "Out of State")
AG_STATUSES = ("Eligible", "On Track", "Not On Track")

_APPLY_COLUMNS = (
    _c("ssid", "ssid", req=True),
    _c("campus", req=True),
    _c("status", "enum", req=True, values=APP_STATUSES),
    _c("submitted_date", "date"),
)

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            "students",
            "Account Registrations (roster and student groups)",
            (
                _c("ssid", "ssid", req=True),
                _c("school_cds", "cds", req=True),
                _c("grade_level", "grade", req=True),
                _c("school_year", "school_year", req=True),
                _c("account_created_date", "date"),
                _c("last_login_date", "date"),
                _c("local_student_id", pii=True),
                _c("first_name", pii=True),
                _c("last_name", pii=True),
                _c("school_name"),
                _c("district_name"),
                _c("gender", "enum", values=GENDERS),
                _c("race_ethnicity", "enum", values=RACES),
                _c("el_status", "enum", values=EL_STATUSES),
                _c("sed", "flag", values=YN),
                _c("swd", "flag", values=YN),
                _c("foster_youth", "flag", values=YN),
                _c("homeless", "flag", values=YN),
                _c("migrant", "flag", values=YN),
            ),
            key=("ssid",),
            per_student=True,
        ),
        Dataset(
            "fafsa_cadaa",
            "FAFSA/CADAA Application Submission Status",
            (
                _c("ssid", "ssid", req=True),
                _c("application_type", "enum", req=True, values=AID_TYPES, allow_empty=True),
                _c("status", "enum", req=True, values=AID_STATUSES),
                _c("submitted_date", "date"),
                _c("completed_date", "date"),
            ),
            key=("ssid", "application_type"),
        ),
        Dataset("uc_apply", "UC Application Submission Status", _APPLY_COLUMNS,
                key=("ssid", "campus")),
        Dataset("csu_apply", "Cal State Apply Application Submission Status", _APPLY_COLUMNS,
                key=("ssid", "campus")),
        Dataset("ccc_apply", "CCCApply Application Submission Status", _APPLY_COLUMNS,
                key=("ssid", "campus")),
        Dataset(
            "favorite_colleges",
            "Favorited Colleges",
            (
                _c("ssid", "ssid", req=True),
                _c("college_name", req=True),
                _c("segment", "enum", values=SEGMENTS),
                _c("favorited_date", "date"),
            ),
            key=("ssid", "college_name"),
        ),
        Dataset(
            "favorite_careers",
            "Favorited Careers",
            (
                _c("ssid", "ssid", req=True),
                _c("career_title", req=True),
                _c("onet_code"),
                _c("favorited_date", "date"),
            ),
            key=("ssid", "career_title"),
        ),
        Dataset(
            "favorite_majors",
            "Favorited Majors",
            (
                _c("ssid", "ssid", req=True),
                _c("major_name", req=True),
                _c("cip_code"),
                _c("favorited_date", "date"),
            ),
            key=("ssid", "major_name"),
        ),
        Dataset(
            "career_assessments",
            "Career Assessments Completed",
            (
                _c("ssid", "ssid", req=True),
                _c("assessment_name", req=True),
                _c("completed_date", "date", req=True),
            ),
            key=("ssid", "assessment_name", "completed_date"),
        ),
        Dataset(
            "ag_eligibility",
            '"a-g" Eligibility (UC and CSU)',
            (
                _c("ssid", "ssid", req=True),
                _c("uc_status", "enum", req=True, values=AG_STATUSES),
                _c("csu_status", "enum", req=True, values=AG_STATUSES),
                _c("as_of_date", "date"),
            ),
            key=("ssid",),
            per_student=True,
        ),
    )
}

DATASET_NAMES: tuple[str, ...] = tuple(DATASETS)

FILE_RE = re.compile(r"^(?P<dataset>[a-z_]+)_(?P<date>\d{8})\.csv$", re.IGNORECASE)
"""`<dataset>_<YYYYMMDD>.csv`: the only file name a drop may use."""

ZIP_RE = re.compile(r"^ccgi_drop_(?P<date>\d{8})\.zip$", re.IGNORECASE)
"""`ccgi_drop_<YYYYMMDD>.zip`: a whole drop in one archive."""


@dataclass(frozen=True)
class Dimension:
    """A breakdown or filter dimension of metrics.md, with the facts column behind it.

    ``labels`` turns stored codes into the names a person reads; codes not listed show as
    themselves (district and school names are looked up from the facts instead).
    """

    id: str
    title: str
    column: str
    labels: dict[str, str] = field(default_factory=dict)
    subgroup: bool = False
    by: str = ""
    """How the dimension reads after "by" in a chart title ("race/ethnicity"); the title in
    lower case when empty."""

    def __post_init__(self) -> None:
        if not self.by:
            object.__setattr__(self, "by", self.title.lower())

    def label(self, value: object) -> str:
        """The name a person reads for a stored value."""
        return self.labels.get(str(value), str(value))


_FLAG_LABELS = {"Y": "Yes", "N": "No", NOT_REPORTED: NOT_REPORTED}

DIMENSIONS: dict[str, Dimension] = {
    d.id: d
    for d in (
        Dimension("county", "County", "county_code"),
        Dimension("district", "District", "district_code"),
        Dimension("school", "School", "school_cds"),
        Dimension("grade_level", "Grade", "grade_level", by="grade"),
        Dimension("gender", "Gender", "gender",
                  {"M": "Male", "F": "Female", "X": "Non-binary", NOT_REPORTED: NOT_REPORTED},
                  subgroup=True),
        Dimension(
            "race_ethnicity",
            "Race/ethnicity",
            "race_ethnicity",
            {
                "AA": "African American",
                "AI": "American Indian or Alaska Native",
                "AS": "Asian",
                "FI": "Filipino",
                "HI": "Hispanic or Latino",
                "PI": "Pacific Islander",
                "WH": "White",
                "MR": "Two or More Races",
                # NR is a value the district sent (the family declined to state race); the
                # empty cell is the one "Not reported" of every group (drop-format.md).
                "NR": "Declined to state (NR)",
                NOT_REPORTED: NOT_REPORTED,
            },
            subgroup=True,
        ),
        Dimension(
            "el_status",
            "English learner status",
            "el_status",
            {
                "EO": "English only",
                "IFEP": "Initially fluent (IFEP)",
                "EL": "English learner",
                "RFEP": "Reclassified fluent (RFEP)",
                "TBD": "To be determined",
                NOT_REPORTED: NOT_REPORTED,
            },
            subgroup=True,
            by="English learner status",
        ),
        Dimension("sed", "Socioeconomically disadvantaged", "sed", _FLAG_LABELS, subgroup=True,
                  by="socioeconomic disadvantage"),
        Dimension("swd", "Students with disabilities", "swd", _FLAG_LABELS, subgroup=True,
                  by="disability"),
        Dimension("foster_youth", "Foster youth", "foster_youth", _FLAG_LABELS, subgroup=True),
        Dimension("homeless", "Homeless", "homeless", _FLAG_LABELS, subgroup=True,
                  by="homelessness"),
        Dimension("migrant", "Migrant", "migrant", _FLAG_LABELS, subgroup=True,
                  by="migrant status"),
        Dimension("drop_date", "Drop date", "drop_date"),
    )
}

SUBGROUP_DIMENSIONS: tuple[str, ...] = tuple(d.id for d in DIMENSIONS.values() if d.subgroup)
