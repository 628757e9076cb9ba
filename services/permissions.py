"""Who may call what: every route's guard, by name.

Each alias is a `RequestContext` for a token holding the scopes named, held by the kinds of
caller named (`services/core/context.py`): agency staff and systems (`STAFF`, which
includes the national team), the national register team alone (`NATIONAL`), or adopters
(`ADOPTERS`). A route declares one of these and contains no role check of its own; which
agency's records a staff member may change is decided in `services/register/access.py`.
"""

from typing import Annotated

from services.core.auth import Scope
from services.core.context import ADOPTERS, ANYONE, NATIONAL, STAFF, RequestContext, requires

# Agencies' reference data: read by staff; changed by the national team.
AgencyReader = Annotated[RequestContext, requires(Scope.AGENCIES_READ, subjects=STAFF)]
AgencyAdmin = Annotated[RequestContext, requires(Scope.AGENCIES_WRITE, subjects=NATIONAL)]

# The national pool of children and sibling groups; writes to your own agency's.
ChildReader = Annotated[RequestContext, requires(Scope.CHILDREN_READ, subjects=STAFF)]
ChildWriter = Annotated[RequestContext, requires(Scope.CHILDREN_WRITE, subjects=STAFF)]

HouseholdReader = Annotated[RequestContext, requires(Scope.HOUSEHOLDS_READ, subjects=STAFF)]
HouseholdWriter = Annotated[RequestContext, requires(Scope.HOUSEHOLDS_WRITE, subjects=STAFF)]

# Adopters' accounts, managed by staff of the household's approving agency (which agency:
# `register/access.py`, applied in `register/accounts/service.py`).
AdopterAccountReader = Annotated[RequestContext, requires(Scope.HOUSEHOLDS_READ, subjects=STAFF)]
AdopterAccountAdmin = Annotated[RequestContext, requires(Scope.HOUSEHOLDS_WRITE, subjects=STAFF)]

PlacementReader = Annotated[RequestContext, requires(Scope.CHILDREN_READ, subjects=STAFF)]

# Links between children and a family: each side's agency sees them and takes its steps
# (which side may take which step: `register/links/service.STEP_SIDES`).
LinkReader = Annotated[RequestContext, requires(Scope.LINKS_READ, subjects=STAFF)]
LinkWriter = Annotated[RequestContext, requires(Scope.LINKS_WRITE, subjects=STAFF)]

# Expressions of interest as the agencies see and answer them.
InterestReader = Annotated[RequestContext, requires(Scope.CHILDREN_READ, subjects=STAFF)]
InterestAnswerer = Annotated[RequestContext, requires(Scope.CHILDREN_WRITE, subjects=STAFF)]

# Anonymised profiles: adopters browse them (staff may look at what adopters see).
ProfileReader = Annotated[RequestContext, requires(Scope.PROFILES_READ, subjects=ANYONE)]
# An adopter's own household and interests.
AdopterReader = Annotated[RequestContext, requires(Scope.PROFILES_READ, subjects=ADOPTERS)]
AdopterInterestWriter = Annotated[RequestContext, requires(Scope.INTERESTS_WRITE, subjects=ADOPTERS)]

# A household's own profile: its adopters write it and send it to their agency; staff of
# that agency approve or return it; other agencies' family finders read the approved text
# (who sees which version: `register/family_profiles/service.py`).
FamilyProfileWriter = Annotated[RequestContext, requires(Scope.FAMILY_PROFILE_WRITE, subjects=ADOPTERS)]
FamilyProfileReader = Annotated[RequestContext, requires(Scope.HOUSEHOLDS_READ, subjects=STAFF)]
FamilyProfileApprover = Annotated[RequestContext, requires(Scope.HOUSEHOLDS_WRITE, subjects=STAFF)]

MatchingReader = Annotated[RequestContext, requires(Scope.MATCHING_READ, subjects=STAFF)]
MatchingRunner = Annotated[RequestContext, requires(Scope.MATCHING_RUN, subjects=STAFF)]
PolicyAdmin = Annotated[RequestContext, requires(Scope.MATCHING_RUN, subjects=NATIONAL)]

FeeReader = Annotated[RequestContext, requires(Scope.FEES_READ, subjects=STAFF)]
FeeWriter = Annotated[RequestContext, requires(Scope.FEES_WRITE, subjects=STAFF)]
# A paying agency's finance officer recording payments of its netted transfers (which
# agency may pay which transfer is checked in the fee service).
FeePayer = Annotated[RequestContext, requires(Scope.FEES_WRITE, subjects=STAFF)]
# Schedules, raising due fees for everyone, reconciliations: the national team.
FeeAdmin = Annotated[RequestContext, requires(Scope.FEES_WRITE, subjects=NATIONAL)]

Auditor = Annotated[RequestContext, requires(Scope.AUDIT_READ, subjects=STAFF)]

# Public performance information: suppressed figures only, so adopters may read them too.
ScorecardReader = Annotated[RequestContext, requires(Scope.SCORECARDS_READ, subjects=ANYONE)]

# Adoption support: authorities read and write families' support (which authority may act
# for a family is decided in `services/register/support/service.py`); the national team sets
# the fund's limits; adopters ask for an assessment and see their own family's support.
SupportReader = Annotated[RequestContext, requires(Scope.SUPPORT_READ, subjects=STAFF)]
SupportWriter = Annotated[RequestContext, requires(Scope.SUPPORT_WRITE, subjects=STAFF)]
SupportAdmin = Annotated[RequestContext, requires(Scope.SUPPORT_WRITE, subjects=NATIONAL)]
SupportRequester = Annotated[RequestContext, requires(Scope.SUPPORT_REQUEST, subjects=ADOPTERS)]

# Events addressed to your agency (an RAA's include its local authorities'), and the
# webhooks that deliver them.
EventReader = Annotated[RequestContext, requires(Scope.EVENTS_READ, subjects=STAFF)]
WebhookAdmin = Annotated[RequestContext, requires(Scope.WEBHOOKS_WRITE, subjects=STAFF)]
