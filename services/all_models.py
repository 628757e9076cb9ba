"""Every ORM model, importable from one place so Alembic (and the test that compares the
models with the migrations) sees every table."""

from services.adopter_app import models as adopter_app_models
from services.core import audit
from services.core.database import Base
from services.matching import models as matching_models
from services.register import models as register_models
from services.register.events import models as event_models
from services.register.family_profiles import models as family_profile_models
from services.register.fees import models as fee_models
from services.register.links import models as link_models
from services.register.notifications import models as notification_models
from services.register.oauth import models as oauth_models
from services.register.scorecards import models as scorecard_models
from services.register.support import models as support_models

# Imported for their side effect of adding tables to Base.metadata.
__all__ = [
    "adopter_app_models",
    "audit",
    "event_models",
    "family_profile_models",
    "fee_models",
    "link_models",
    "matching_models",
    "metadata",
    "notification_models",
    "oauth_models",
    "register_models",
    "scorecard_models",
    "support_models",
]

metadata = Base.metadata
