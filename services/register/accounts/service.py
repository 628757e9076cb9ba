"""Adopter accounts: agencies invite, re-invite and disable them; adopters set their password
through a single-use link (an invitation, or a reset they ask for). The password is only ever
typed on the register's own pages, never in a client app.

Link tokens are random 256-bit strings, stored only as SHA-256 hashes; the link goes to the
adopter in a notification written in the same transaction (`register/notifications`).
"""

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit import AuditAction, record_audit
from services.core.context import RequestContext
from services.core.errors import Conflict, ProblemError
from services.core.refs import new_ref
from services.core.settings import Settings
from services.register.access import ensure_may_write_for
from services.register.accounts import repository
from services.register.accounts.schemas import AdopterAccountRead, AdopterInvite
from services.register.agencies import repository as agencies
from services.register.audit.resources import AuditResource
from services.register.households import repository as households
from services.register.models import Household
from services.register.notifications import service as notifications
from services.register.notifications.vocabulary import NotificationKind
from services.register.oauth.accounts import hash_password
from services.register.oauth.models import AccountToken, AdopterAccount, token_hash
from services.register.oauth.server import MAX_ACCESS_TOKEN_MINUTES

INVITATION = "invitation"
PASSWORD_RESET = "password_reset"
LIFETIMES = {INVITATION: timedelta(days=14), PASSWORD_RESET: timedelta(hours=1)}
PATHS = {INVITATION: "/account/invitation/", PASSWORD_RESET: "/account/reset/"}
PAGES_PRINCIPAL = "account-pages"


class TokenNotUsable(ProblemError):
    status, slug, title = 410, "link-not-usable", "This link cannot be used"


def to_read(account: AdopterAccount) -> AdopterAccountRead:
    return AdopterAccountRead(
        ref=account.ref,
        email=account.email,
        household_ref=account.household_ref,
        state=account.state,
        invited_at=account.invited_at,
        activated_at=account.activated_at,
        disabled_at=account.disabled_at,
    )


async def _own_household(ctx: RequestContext, ref: str, *, for_update: bool = False) -> tuple[Household, str]:
    """The household, if the caller is staff of its approving agency (or that agency's RAA,
    or the national team)."""
    household, agency = await households.get(ctx.session, ref, for_update=for_update)
    _, parent_ref = await agencies.get_with_parent_ref(ctx.session, agency.ref)
    ensure_may_write_for(ctx.principal, agency, parent_ref)
    return household, agency.ref


def _link(settings: Settings, purpose: str, token: str) -> str:
    return settings.public_base_url + PATHS[purpose] + token


async def _new_link(session: AsyncSession, settings: Settings, account: AdopterAccount, purpose: str) -> str:
    token = secrets.token_urlsafe(32)
    await repository.add_token(
        session,
        AccountToken(
            token_hash=token_hash(token),
            account_id=account.id,
            purpose=purpose,
            expires_at=datetime.now(UTC) + LIFETIMES[purpose],
        ),
    )
    return _link(settings, purpose, token)


def _queue_invitation(session: AsyncSession, account: AdopterAccount, link: str) -> None:
    notifications.queue(
        session,
        kind=NotificationKind.ADOPTER_INVITATION,
        to_email=account.email,
        subject="Your account on the adoption register",
        body=(
            "Hello,\n\n"
            "Your adoption agency has made you an account on the national adoption register, so you can\n"
            "look at the profiles of children waiting for a family from your adopters' app.\n\n"
            "To start, choose a password by opening this link (it works once, for 14 days):\n\n"
            f"{link}\n\n"
            "If you were not expecting this email, you can ignore it, or tell your agency.\n"
        ),
        link=link,
    )


async def invite(
    ctx: RequestContext, settings: Settings, household_ref: str, body: AdopterInvite
) -> AdopterAccountRead:
    household, agency_ref = await _own_household(ctx, household_ref, for_update=True)
    if await repository.email_taken(ctx.session, body.email):
        raise Conflict("That email address already has an account on the register.", extra={"error": "email_taken"})
    account = AdopterAccount(
        ref=new_ref("A"),
        email=body.email,
        password_hash=None,
        household_id=household.id,
        household_ref=household.ref,
        agency_ref=agency_ref,
        invited_at=datetime.now(UTC),
    )
    await repository.add(ctx.session, account)
    _queue_invitation(ctx.session, account, await _new_link(ctx.session, settings, account, INVITATION))
    ctx.audit(AuditAction.CREATE, AuditResource.ADOPTER_ACCOUNT, account.ref)
    return to_read(account)


async def list_for_household(ctx: RequestContext, household_ref: str) -> list[AdopterAccountRead]:
    household, _ = await _own_household(ctx, household_ref)
    accounts = await repository.for_household(ctx.session, household.id)
    ctx.audit(AuditAction.READ, AuditResource.HOUSEHOLD, household.ref)
    return [to_read(a) for a in accounts]


async def _own_account(ctx: RequestContext, ref: str) -> AdopterAccount:
    account = await repository.get(ctx.session, ref, for_update=True)
    await _own_household(ctx, account.household_ref)
    return account


async def disable(ctx: RequestContext, ref: str) -> AdopterAccountRead:
    """The account can no longer sign in; its refresh tokens, the access tokens issued with
    them, and its unused links stop working at once."""
    account = await _own_account(ctx, ref)
    if account.disabled_at is None:
        account.disabled_at = datetime.now(UTC)
        await repository.kill_tokens(ctx.session, account.id)
        await repository.revoke_tokens(ctx.session, account.id, timedelta(minutes=MAX_ACCESS_TOKEN_MINUTES))
        await ctx.session.flush()
        ctx.audit(AuditAction.TRANSITION, AuditResource.ADOPTER_ACCOUNT, account.ref)
    return to_read(account)


async def reinvite(ctx: RequestContext, settings: Settings, ref: str) -> AdopterAccountRead:
    """A fresh invitation link; any earlier one is dead."""
    account = await _own_account(ctx, ref)
    if account.disabled_at is not None:
        raise Conflict("The account is disabled: it cannot be invited again.")
    if account.password_hash is not None:
        raise Conflict("The account is already active: the adopter can ask for a password reset instead.")
    account.invited_at = datetime.now(UTC)
    _queue_invitation(ctx.session, account, await _new_link(ctx.session, settings, account, INVITATION))
    await ctx.session.flush()
    ctx.audit(AuditAction.UPDATE, AuditResource.ADOPTER_ACCOUNT, account.ref)
    return to_read(account)


# --- the adopters' own pages (no access token: the link's token is the credential) --------


async def usable_token(session: AsyncSession, token: str, purpose: str) -> tuple[AccountToken, AdopterAccount]:
    found = await repository.token_for_update(session, token_hash(token), purpose)
    if found is None or found.used_at is not None or found.expires_at <= datetime.now(UTC):
        raise TokenNotUsable("This link has expired or has already been used.")
    account = await repository.get_by_id(session, found.account_id, for_update=True)
    if account.disabled_at is not None:
        raise TokenNotUsable("This account has been closed. Please contact your agency.")
    return found, account


async def set_password(session: AsyncSession, token: str, purpose: str, password: str, request_id: str) -> None:
    """Use the link: the password is set, the account active, the link dead. A reset also
    signs the account out everywhere (every refresh token revoked)."""
    found, account = await usable_token(session, token, purpose)
    account.password_hash = await asyncio.to_thread(hash_password, password)  # argon2: off the event loop
    now = datetime.now(UTC)
    found.used_at = now
    if account.activated_at is None:
        account.activated_at = now
    await repository.kill_tokens(session, account.id)
    if purpose == PASSWORD_RESET:
        await repository.revoke_tokens(session, account.id, timedelta(minutes=MAX_ACCESS_TOKEN_MINUTES))
    await session.flush()
    record_audit(
        session,
        principal=f"adopter:{account.ref}",
        action=AuditAction.UPDATE,
        resource_type=AuditResource.ADOPTER_ACCOUNT,
        resource_ref=account.ref,
        request_id=request_id,
        route=f"POST {PATHS[purpose]}{{token}}",
    )


async def request_reset(session: AsyncSession, settings: Settings, email: str) -> None:
    """A reset link to the address if it has an account that is not disabled; nothing
    otherwise. The caller answers the same either way, and the work is as alike as it can
    be: a token is made and hashed in both cases."""
    token = secrets.token_urlsafe(32)
    hashed = token_hash(token)
    account = await repository.by_email(session, email)
    if account is None:
        return
    await repository.add_token(
        session,
        AccountToken(
            token_hash=hashed,
            account_id=account.id,
            purpose=PASSWORD_RESET,
            expires_at=datetime.now(UTC) + LIFETIMES[PASSWORD_RESET],
        ),
    )
    link = _link(settings, PASSWORD_RESET, token)
    notifications.queue(
        session,
        kind=NotificationKind.PASSWORD_RESET,
        to_email=account.email,
        subject="Reset your adoption register password",
        body=(
            "Hello,\n\n"
            "Someone asked to reset the password of your account on the national adoption register.\n"
            "To choose a new password, open this link (it works once, for 1 hour):\n\n"
            f"{link}\n\n"
            "If you did not ask for this, you can ignore this email: your password has not changed.\n"
        ),
        link=link,
    )
