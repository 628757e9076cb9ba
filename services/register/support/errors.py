"""Problems particular to adoption support."""

from services.core.errors import ProblemError


class LimitRefused(ProblemError):
    """An Adoption Support Fund application the year's rules do not allow; the problem
    names what the child has left (`remaining_pence`)."""

    status, slug, title = 409, "asf-limit-exceeded", "Above the Adoption Support Fund's limit"
