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


# The age bands adopters see on a profile, by their lowest age (services/register/profiles).
# Their age filters work in the same bands: a one-year filter would tell a child's exact age.
AGE_BAND_STARTS = (0, 2, 5, 8, 11)
OLDEST_CHILD_AGE = 17


def band_start(age: int) -> int:
    """The lowest age of the band `age` falls in."""
    return max(start for start in AGE_BAND_STARTS if start <= age)


def band_end(age: int) -> int:
    """The highest age of the band `age` falls in."""
    return min((start - 1 for start in AGE_BAND_STARTS if start > age), default=OLDEST_CHILD_AGE)
