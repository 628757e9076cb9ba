"""The needs taxonomy as the API shows it: one field per need, levels as words."""

from typing import Literal

from pydantic import BaseModel, ConfigDict

from services.register.vocabulary import NEEDS, ContactPlan, NeedLevel

NeedLabel = Literal["none", "low", "medium", "high"]
ContactLabel = Literal["none", "letterbox", "direct_siblings", "direct_birth_family"]


class Needs(BaseModel):
    """For a child: the level of need. For a household: the highest level it can meet."""

    model_config = ConfigDict(extra="forbid")

    physical_disability: NeedLabel
    learning_disability: NeedLabel
    developmental_uncertainty: NeedLabel
    health_condition: NeedLabel
    emotional_behavioural: NeedLabel
    foetal_alcohol_exposure: NeedLabel
    birth_family_history: NeedLabel
    contact: NeedLabel

    def levels(self) -> dict[str, NeedLevel]:
        return {n.value: NeedLevel.from_label(getattr(self, n.value)) for n in NEEDS}

    @classmethod
    def from_levels(cls, levels: dict[str, NeedLevel]) -> "Needs":
        return cls(**{need: NeedLevel(level).label for need, level in levels.items()})


def contact_level(label: ContactLabel) -> int:
    return int(ContactPlan[label.upper()])


def contact_label(level: int) -> ContactLabel:
    return ContactPlan(level).label  # type: ignore[return-value]
