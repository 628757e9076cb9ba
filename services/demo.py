"""What `adoption-register demo` does before serving: load the synthetic register once,
make sure tokens can be signed, run a national match, register the adopters' app as a client
with a demo adopter's account, and print where to look with a token to try."""

import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from services.core import clock
from services.core.database import create_engine, create_sessionmaker, transaction
from services.core.settings import Settings
from services.matching.jobs import national_match
from services.register.fees.calculation import financial_year
from services.register.fees.service import year_totals
from services.register.households import repository as households
from services.register.links import service as links
from services.register.oauth.accounts import create_client, hash_password, invite_adopter
from services.register.oauth.keys import mint_access_token, rotate_signing_key, signing_key
from services.register.oauth.repository import active_keys, adopter_by_email
from services.register.seed.load import load_synthetic_register
from services.register.seed.repository import is_empty
from services.register.support.service import spend_by_region
from services.register.vocabulary import HouseholdStatus

DEMO_SCOPES = (
    "agencies:read",
    "children:read",
    "children:write",
    "households:read",
    "households:write",
    "links:read",
    "links:write",
    "matching:read",
    "matching:run",
    "fees:read",
    "fees:write",
    "audit:read",
    "scorecards:read",
    "support:read",
    "support:write",
    "events:read",
    "webhooks:write",
)
DEMO_TOKEN_MINUTES = 60
DEMO_ADOPTER_EMAIL = "adopter@demo.example"
APP_SCOPES = ("profiles:read", "interests:write", "support:request", "family-profile:write")


@dataclass(frozen=True)
class DemoAdopterApp:
    """The adopters' app's client registration and a demo adopter's sign-in (development only)."""

    client_id: str
    client_secret: str
    email: str
    password: str
    household_ref: str


async def prepare_adopter_app(session: AsyncSession, app_url: str) -> DemoAdopterApp:
    """Registers the app as a confidential client (a new one each run: only the secret's hash
    is kept) and gives the demo adopter, of one approved household, a new password."""
    client, secret = await create_client(
        session,
        name="Adopters' app (demo)",
        scopes=list(APP_SCOPES),
        agency_ref=None,
        redirect_uris=[app_url.rstrip("/") + "/callback"],
        public=False,
    )
    assert secret is not None  # a confidential client
    password = secrets.token_urlsafe(12)
    account = await adopter_by_email(session, DEMO_ADOPTER_EMAIL)
    if account is None:
        found = await households.list_households(
            session,
            region=None,
            agency_ref=None,
            status=HouseholdStatus.APPROVED,
            min_capacity=2,
            accepts_sibling_group=True,
            child_age=None,
            after_id=None,
            limit=1,
        )
        if not found:
            raise SystemExit("demo: the register has no approved household for the demo adopter")
        account = await invite_adopter(
            session, household_ref=found[0][0].ref, email=DEMO_ADOPTER_EMAIL, password=password
        )
    else:
        account.password_hash = hash_password(password)
        await session.flush()
    return DemoAdopterApp(client.client_id, secret, DEMO_ADOPTER_EMAIL, password, account.household_ref)


async def asf_spend_by_region(session: AsyncSession) -> str:
    """This financial year's Adoption Support Fund spend per region (the fund's share)."""
    year = financial_year(clock.today())
    rows = await spend_by_region(session, year)
    lines = [f"Adoption Support Fund spend {year}/{(year + 1) % 100:02d} by region (synthetic):"]
    lines += [f"  {region:<26} {children:>5,} children  £{pence / 100:>12,.2f}" for region, children, pence in rows]
    total = sum(pence for _, _, pence in rows)
    lines.append(f"  {'England':<26} {sum(c for _, c, _ in rows):>5,} children  £{total / 100:>12,.2f}")
    return "\n".join(lines)


async def _prepare(session: AsyncSession, settings: Settings, seed: int) -> tuple[str, str]:
    if await is_empty(session):
        loaded = await load_synthetic_register(session, seed=seed, today=clock.today())
    else:
        loaded = "The register already holds data: the synthetic set is not loaded again."
    if not await active_keys(session):
        await rotate_signing_key(session)
    token = mint_access_token(
        await signing_key(session),
        settings,
        subject="demo-family-finder",
        scopes=DEMO_SCOPES,
        client_id="demo",
        lifetime_seconds=DEMO_TOKEN_MINUTES * 60,
    )
    return f"{loaded}\n\n{await asf_spend_by_region(session)}\n{await year_totals(session, clock.today())}", token


async def prepare_demo(
    url: str, settings: Settings, *, seed: int, base_url: str, app_url: str
) -> tuple[str, DemoAdopterApp]:
    if settings.environment == "production":
        raise SystemExit("demo is for development: it loads synthetic data and prints a token")
    engine = create_engine(url, settings)
    try:
        async with transaction(create_sessionmaker(engine), principal="cli:demo", request_id="demo") as session:
            loaded, token = await _prepare(session, settings, seed)
            journey = await links.describe_a_recent_adoption(session)
            adopter_app = await prepare_adopter_app(session, app_url)
        matched = await national_match(engine, today=clock.today(), requested_by="cli:demo")
    finally:
        await engine.dispose()
    return (
        f"{loaded}\n\n{journey}\n\n{matched}\n\n"
        f"API:            {base_url}/v1/children  (and the rest: see the docs)\n"
        f"API docs:       {base_url}/docs\n"
        f"OAuth metadata: {base_url}/.well-known/oauth-authorization-server\n\n"
        f"A national family finder's token for the demo ({DEMO_TOKEN_MINUTES} minutes; development only):\n"
        f"  export TOKEN={token}\n"
        f"  curl -H \"Authorization: Bearer $TOKEN\" '{base_url}/v1/children?limit=5'\n\n"
        f"The adopters' app: {app_url}  (household {adopter_app.household_ref}; development only)\n"
        f"  sign in as {adopter_app.email}  password: {adopter_app.password}\n"
    ), adopter_app
