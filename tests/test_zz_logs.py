"""Runs last (by name): the logs of the whole test run hold no child's or adopter's name."""

import itertools
import re

from services.register.seed.generate import FIRST_NAMES, SURNAMES
from tests.conftest import RUN_LOG

# Names the tests give children and adopters, and every full name the synthetic register
# can give (first name and surname).
TEST_NAMES = [
    "Amelia",
    "Testchild",
    "Zephyrina",
    "Quillonby",
    "Marchetta",
    "Oswaldine",
    "Wilhelmina",
    "Sam Adopter",
    "Alex Adopter",
]


def test_the_run_logs_hold_no_personal_names():
    text = RUN_LOG.read_text()
    assert text.count('"request_id"') > 200, "the access log was not captured"
    synthetic = (f"{first} {last}" for first, last in itertools.product(FIRST_NAMES, SURNAMES))
    found = [name for name in itertools.chain(TEST_NAMES, synthetic) if re.search(rf"\b{re.escape(name)}\b", text)]
    assert found == []
