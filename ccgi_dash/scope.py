"""Who is asking: the scope every data function takes as its first argument.

A scope is built on the server from the user's record (see ``accounts.signin``), never from
a widget, a URL parameter or a cookie. Data functions turn it into SQL with bound parameters,
so scoping is enforced where the rows are read. A scope that names no districts reads no rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["admin", "coe", "district", "demo"]
ROLES: tuple[Role, ...] = ("admin", "coe", "district", "demo")


@dataclass(frozen=True)
class Scope:
    """The districts a user may read, and whether student-level rows are allowed.

    ``all_districts`` grants the whole county (admin, coe, demo coordinator); otherwise only
    ``districts`` (7-digit county+district codes). ``student_level`` allows names, SSIDs and
    lists. ``dataset`` says which data directory the scope belongs to ("live" or "demo"), so a
    cached result of one can never answer the other.
    """

    role: Role
    all_districts: bool = False
    districts: tuple[str, ...] = ()
    student_level: bool = False
    dataset: Literal["live", "demo"] = "live"
    user: str = ""

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        if self.all_districts and self.districts:
            raise ValueError("a scope is either all districts or a list, not both")
        if any(not (len(d) == 7 and d.isdigit()) for d in self.districts):
            raise ValueError("district codes are 7 digits (county + district)")

    @property
    def sees_nothing(self) -> bool:
        return not self.all_districts and not self.districts

    def named_sql(self, column: str = "district_code",
                  name: str = "scope_districts") -> tuple[str, dict[str, object]]:
        """A WHERE fragment with a named parameter (``$scope_districts``), to combine with
        other fragments' named parameters. ``column`` must be a fixed identifier."""
        if self.all_districts:
            return "TRUE", {}
        if not self.districts:
            return "FALSE", {}
        return (f"{column} IN (SELECT unnest(${name}::VARCHAR[]))",
                {name: list(self.districts)})

    def sql(self, column: str = "district_code") -> tuple[str, list[object]]:
        """The same fragment with one positional parameter, for a query that has no other
        parameter (the data status and clean-up queries). Combine fragments with
        :meth:`named_sql`."""
        sql, params = self.named_sql(column, "p")
        return sql.replace("$p", "?"), list(params.values())

    def allows_district(self, code: str) -> bool:
        return self.all_districts or code in self.districts

    def cache_key(self) -> tuple:
        return (self.role, self.all_districts, self.districts, self.student_level, self.dataset)

    @classmethod
    def county(cls, dataset: Literal["live", "demo"] = "live", *, student_level: bool = True,
               user: str = "cli") -> Scope:
        """The whole county: the CLI operator (who holds the files) and admins."""
        return cls("admin", all_districts=True, student_level=student_level, dataset=dataset,
                   user=user)
