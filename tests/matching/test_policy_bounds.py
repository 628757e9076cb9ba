"""The API's policy ranges are the engine's BOUNDS, stated once."""

import pytest
from pydantic import ValidationError

from services.matching.engine.policy import BOUNDS, ScoringPolicy
from services.matching.schemas import PolicyOverrides


def test_every_setting_of_the_policy_can_be_overridden_within_its_bounds_and_no_other():
    assert set(PolicyOverrides.model_fields) == set(BOUNDS) == set(ScoringPolicy.__dataclass_fields__)
    for name, (least, most) in BOUNDS.items():
        assert PolicyOverrides.model_validate({name: least}).changes() == {name: least}
        assert PolicyOverrides.model_validate({name: most}).changes() == {name: most}
        for outside in (least - 1, most + 1):
            with pytest.raises(ValidationError):
                PolicyOverrides.model_validate({name: outside})
