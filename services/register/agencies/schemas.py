from pydantic import BaseModel, Field

from services.core.http import RefText, RequestModel
from services.register.vocabulary import AgencyKind, Region

REF_PATTERN = r"^[A-Z0-9][A-Z0-9-]{1,31}$"


class AgencyCreate(RequestModel):
    ref: str = Field(pattern=REF_PATTERN, description="The agency's short code, e.g. RAA-01")
    name: str = Field(min_length=2, max_length=200)
    kind: AgencyKind
    region: Region
    parent_raa_ref: RefText | None = Field(default=None, description="Required for a local authority")
    latitude: float = Field(ge=49, le=56)
    longitude: float = Field(ge=-7, le=2)


class AgencyUpdate(RequestModel):
    name: str | None = Field(default=None, min_length=2, max_length=200)
    latitude: float | None = Field(default=None, ge=49, le=56)
    longitude: float | None = Field(default=None, ge=-7, le=2)


class AgencyRead(BaseModel):
    ref: str
    name: str
    kind: AgencyKind
    region: Region
    parent_raa_ref: str | None
    latitude: float
    longitude: float
    synthetic: bool
    version: int
