"""Every ORM model, importable from one place so Alembic sees every table."""

from services.core import audit  # noqa: F401
from services.core.database import Base
from services.matching import models as matching_models  # noqa: F401
from services.register import models as register_models  # noqa: F401
from services.register.fees import models as fee_models  # noqa: F401
from services.register.oauth import models as oauth_models  # noqa: F401
from services.register.scorecards import models as scorecard_models  # noqa: F401

metadata = Base.metadata
