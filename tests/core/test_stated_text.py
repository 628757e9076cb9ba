"""A note's schema tells the truth: whatever its pattern accepts, the API accepts after
stripping the blanks around it (the fuzz test found a note of three characters, two of
them blanks, that the schema allowed and the API refused)."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from services.core.http import STATED_TEXT
from services.matching.schemas import PolicyCreate


@pytest.mark.parametrize(
    ("note", "accepted"),
    [
        ("\u0093\u00cf\u000b", False),  # the fuzz test's case: one character once stripped
        ("  ok  ", False),
        ("a b", True),
        ("\x0bwhy\x0b", True),
        ("no\x00nul", False),
        ("Raise the weight of sibling groups", True),
    ],
)
def test_the_pattern_and_the_api_agree_on_examples(note, accepted):
    assert bool(re.fullmatch(STATED_TEXT, note)) is accepted
    if accepted:
        assert PolicyCreate.model_validate({"settings": {}, "note": note}).note == note.strip()
    else:
        with pytest.raises(ValidationError):
            PolicyCreate.model_validate({"settings": {}, "note": note})


# Blanks of every kind around and among a few letters: where a pattern and the stripping
# could disagree.
BLANKS_AND_LETTERS = st.text(alphabet=st.sampled_from(" \t\n\x0b\x0c\r\x1c\x85\xa0\u2028\u3000ab\x93\u00cf"))


@given(BLANKS_AND_LETTERS.filter(lambda text: re.fullmatch(STATED_TEXT, text) is not None and len(text) <= 500))
def test_every_note_the_schema_allows_is_accepted(note):
    PolicyCreate.model_validate({"settings": {}, "note": note})
