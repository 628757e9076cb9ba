"""Ages and date arithmetic on birthdays, used wherever an age is shown or filtered."""

from datetime import date


def age_in_years(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def years_ago(today: date, years: int) -> date:
    """The date `years` whole years before `today` (28 February for a 29 February)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)
