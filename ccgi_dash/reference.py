"""CDE's public school directory, as shipped in ``data/reference/``.

The directory gives the demo real names and codes, fills names a drop leaves out, and lets
the clean-up report flag unknown or closed schools. It is read once per process.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

DIRECTORY_CSV = (Path(__file__).resolve().parent.parent / "data" / "reference"
                 / "cde_public_schools.csv")


@dataclass(frozen=True)
class School:
    cds: str
    status: str
    county: str
    district: str
    school: str
    city: str
    zip: str

    @property
    def county_code(self) -> str:
        return self.cds[:2]

    @property
    def district_code(self) -> str:
        return self.cds[:7]

    @property
    def is_district_office(self) -> bool:
        return self.cds.endswith("0000000")


@functools.cache
def directory(path: Path = DIRECTORY_CSV) -> tuple[School, ...]:
    """Every row of the directory (schools and district offices, all statuses)."""
    with open(path, encoding="utf-8", newline="") as fh:
        return tuple(
            School(r["CDSCode"].strip(), r["StatusType"].strip(), r["County"].strip(),
                   r["District"].strip(), r["School"].strip(), r["City"].strip(),
                   r["Zip"].strip())
            for r in csv.DictReader(fh)
        )


@functools.cache
def counties() -> dict[str, str]:
    """County name -> two-digit county code."""
    return {s.county: s.county_code for s in directory()}


def county_code(name_or_code: str) -> str:
    """Resolve "Fresno", "fresno" or "10" to "10"; raise ValueError naming the choices."""
    text = name_or_code.strip()
    if text.isdigit() and len(text) == 2 and text in counties().values():
        return text
    for name, code in counties().items():
        if name.lower() == text.lower() or name.lower() == text.lower().removesuffix(" county"):
            return code
    raise ValueError(f"unknown county {name_or_code!r}; choose one of: "
                     f"{', '.join(sorted(counties()))}")


def county_name(code: str) -> str:
    for name, c in counties().items():
        if c == code:
            return name
    return code
