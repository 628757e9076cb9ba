"""What the pages show, in plain English: labels for the register's codes, and the children
filters turned into the register's query."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

AGE_BANDS: dict[str, tuple[int, int]] = {
    "0-1": (0, 1),
    "2-4": (2, 4),
    "5-7": (5, 7),
    "8-10": (8, 10),
    "11-17": (11, 17),
}
GROUP_SIZES = ("1", "2", "3", "4")

NEEDS: dict[str, str] = {
    "physical_disability": "Physical disability",
    "learning_disability": "Learning disability",
    "developmental_uncertainty": "Uncertainty about development",
    "health_condition": "Health condition",
    "emotional_behavioural": "Emotional and behavioural needs",
    "foetal_alcohol_exposure": "Exposure to alcohol before birth",
    "birth_family_history": "Birth family history",
    "contact": "Contact with birth family",
}
NEED_LEVELS = ("none", "low", "medium", "high")
LEVEL_WORDS = {"none": "no need", "low": "low", "medium": "medium", "high": "high"}

REGIONS = {
    "north_east": "North East",
    "north_west": "North West",
    "yorkshire_and_the_humber": "Yorkshire and the Humber",
    "east_midlands": "East Midlands",
    "west_midlands": "West Midlands",
    "east_of_england": "East of England",
    "london": "London",
    "south_east": "South East",
    "south_west": "South West",
}
CONTACT_PLANS = {
    "none": "No contact planned",
    "letterbox": "Letterbox contact (letters through the agency)",
    "direct_siblings": "Meetings with brothers or sisters",
    "direct_birth_family": "Meetings with birth family",
}
SEXES = {"female": "Girl", "male": "Boy"}
ETHNICITIES = {
    "white_british": "White British",
    "white_other": "White (other)",
    "mixed": "Mixed or multiple ethnic groups",
    "asian": "Asian or Asian British",
    "black": "Black, Black British, Caribbean or African",
    "other": "Other ethnic group",
}
INTEREST_STATES = {
    "open": "Waiting for an answer",
    "accepted": "Accepted",
    "declined": "Declined",
    "withdrawn": "Withdrawn by you",
    "closed": "Closed",
}
PROFILE_STATES = {
    "draft": "Draft: not sent to your agency yet",
    "submitted": "Sent to your agency for approval",
    "approved": "Approved: family finders can read it",
    "returned": "Returned by your agency for changes",
}


def day(value: Any) -> str:
    """An ISO date or timestamp as people write it: 23 November 2026."""
    try:
        when = date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{when.day} {when:%B %Y}"


def label(table: dict[str, str], code: Any) -> str:
    return table.get(str(code), str(code).replace("_", " ").capitalize())


def needs_shown(needs: dict[str, str]) -> list[tuple[str, str]]:
    """Only the needs a child has (low, medium or high), each with its level in words."""
    return [(NEEDS.get(name, name), level) for name, level in needs.items() if level in ("low", "medium", "high")]


@dataclass
class ChildFilters:
    view: str = "fits"
    age_band: str = ""
    group_size: str = ""
    needs: dict[str, str] = field(default_factory=dict)
    cursor: str = ""
    problems: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, query: Any) -> "ChildFilters":
        problems = []
        view = query.get("view", "fits")
        if view not in ("fits", "all"):
            view = "fits"
        age_band = query.get("age_band", "")
        if age_band and age_band not in AGE_BANDS:
            problems.append("Choose an age band from the list.")
            age_band = ""
        group_size = query.get("group_size", "")
        if group_size and group_size not in GROUP_SIZES:
            problems.append("Choose a number of children from the list.")
            group_size = ""
        needs = {}
        for name in NEEDS:
            level = query.get(f"need_{name}", "")
            if level in NEED_LEVELS[:-1]:
                needs[name] = level
            elif level:
                problems.append(f"Choose a level for {NEEDS[name].lower()} from the list.")
        cursor = query.get("cursor", "")[:500]
        return cls(view, age_band, group_size, needs, cursor, problems)

    def api_params(self, limit: int) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = [("limit", str(limit))]
        if self.view == "fits":
            params.append(("fits", "true"))
        if self.age_band:
            low, high = AGE_BANDS[self.age_band]
            params += [("age_min_years", str(low)), ("age_max_years", str(high))]
        if self.group_size:
            params.append(("sibling_group_size", self.group_size))
        params += [("need", f"{name}:{level}") for name, level in self.needs.items()]
        if self.cursor:
            params.append(("cursor", self.cursor))
        return params

    def page_query(self, cursor: str | None = None) -> list[tuple[str, str]]:
        """The app's own query for a link to another page of the same list."""
        query = [("view", self.view)]
        if self.age_band:
            query.append(("age_band", self.age_band))
        if self.group_size:
            query.append(("group_size", self.group_size))
        query += [(f"need_{name}", level) for name, level in self.needs.items()]
        if cursor:
            query.append(("cursor", cursor))
        return query
