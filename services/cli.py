"""The `adoption-register` command line."""

import asyncio
import contextlib
import logging
import os
import signal
from typing import Annotated, Any

import typer

from services.apps import ServiceName, create_service_app
from services.core import clock
from services.core.database import create_engine, create_sessionmaker, database_url, transaction
from services.core.settings import Settings, get_settings

app = typer.Typer(help="National adoption matching register.", no_args_is_help=True, add_completion=False)
keys_app = typer.Typer(help="Token signing keys.", no_args_is_help=True)
tokens_app = typer.Typer(help="Access tokens for operators and scripts.", no_args_is_help=True)
fees_app = typer.Typer(help="Interagency fees.", no_args_is_help=True)
app.add_typer(fees_app, name="fees")
clients_app = typer.Typer(
    help="OAuth clients (agency systems, finance systems, the adopters' app).", no_args_is_help=True
)
adopters_app = typer.Typer(help="Adopter accounts.", no_args_is_help=True)
app.add_typer(clients_app, name="clients")
app.add_typer(adopters_app, name="adopters")
app.add_typer(keys_app, name="keys")
app.add_typer(tokens_app, name="tokens")
webhooks_app = typer.Typer(help="Webhook deliveries of the events outbox.", no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")
notifications_app = typer.Typer(help="Emails to adopters (the notification outbox).", no_args_is_help=True)
app.add_typer(notifications_app, name="notifications")

CLI_PRINCIPAL = "cli:operator"

Host = Annotated[str, typer.Option(help="Interface to listen on")]
Port = Annotated[int, typer.Option(help="Port to listen on")]


def _settings() -> Settings:
    return get_settings()


async def _run_in_transaction(url: str, settings: Settings, work, request_id: str):
    from services.core.errors import ProblemError

    engine = create_engine(url, settings)
    try:
        async with transaction(create_sessionmaker(engine), principal=CLI_PRINCIPAL, request_id=request_id) as s:
            return await work(s)
    except ProblemError as exc:  # the same rules as the API, said plainly on the terminal
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(code=1) from exc
    finally:
        await engine.dispose()


@app.command()
def migrate() -> None:
    """Apply every database migration (alembic upgrade head)."""
    from services.core.migrate import upgrade

    url = database_url(_settings())
    upgrade(url)
    typer.echo("database migrated to head")


@app.command()
def seed(
    synthetic: Annotated[bool, typer.Option("--synthetic", help="Load the synthetic national register")] = False,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same register")] = 1,
) -> None:
    """Load data into an empty register."""
    if not synthetic:
        raise typer.BadParameter("only --synthetic is available: real agencies load their own data over the API")
    from services.register.seed.load import load_synthetic_register

    settings = _settings()
    from services.register.seed.load import RegisterNotEmpty

    try:
        report = asyncio.run(
            _run_in_transaction(
                database_url(settings),
                settings,
                lambda s: load_synthetic_register(s, seed=seed, today=clock.today()),
                f"seed-{seed}",
            )
        )
    except RegisterNotEmpty as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(report)


@app.command()
def match(
    lexicographic: Annotated[bool, typer.Option(help="First match as many 18-month waiters as possible")] = False,
) -> None:
    """Run a national match now (as the nightly job does) and print its summary."""
    from services.matching.jobs import national_match

    settings = _settings()

    async def work() -> str:
        engine = create_engine(database_url(settings), settings)
        try:
            return await national_match(
                engine, today=clock.today(), lexicographic=lexicographic, requested_by="cli:match"
            )
        finally:
            await engine.dispose()

    from services.core.errors import ProblemError

    try:
        typer.echo(asyncio.run(work()))
    except ProblemError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(code=1) from exc


@fees_app.command("raise-due")
def raise_due_fees(as_of: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: today)")] = None) -> None:
    """Raise every fee due by a day (12-month instalments, monthly fees): the nightly job.
    Idempotent: a fee already raised is never raised twice."""
    from datetime import date

    from services.register.fees.service import raise_all_due

    settings = _settings()
    day = date.fromisoformat(as_of) if as_of else clock.today()
    checked, raised, missing = asyncio.run(
        _run_in_transaction(
            database_url(settings),
            settings,
            lambda s: raise_all_due(s, as_of=day, today=clock.today(), raised_by=CLI_PRINCIPAL),
            "fees-raise",
        )
    )
    typer.echo(
        f"{checked:,} cross-agency placements checked as of {day}: {raised:,} fee lines raised; "
        f"{missing:,} fees due but not set in their schedule"
    )


@webhooks_app.command("deliver")
def deliver_webhooks(
    once: Annotated[bool, typer.Option("--once", help="Attempt what is due now, then exit (cron, tests)")] = False,
    interval: Annotated[float, typer.Option(min=0.1, max=3600, help="Seconds between rounds")] = 5.0,
) -> None:
    """Send due webhook deliveries (signed, retried with backoff). Any number of these
    processes may run at once: each delivery is sent by one of them."""
    import signal

    from services.core.observability import configure_logging
    from services.register.events.delivery import deliver_due, run_worker

    settings = _settings()

    async def work() -> None:
        engine = create_engine(database_url(settings), settings)
        try:
            if once:
                typer.echo(f"{await deliver_due(engine, settings)} webhook deliveries attempted")
                return
            stop = asyncio.Event()
            for signum in (signal.SIGTERM, signal.SIGINT):
                asyncio.get_running_loop().add_signal_handler(signum, stop.set)
            await run_worker(engine, settings, interval=interval, stop=stop)
        finally:
            await engine.dispose()

    configure_logging(settings.log_level)
    # Ctrl-C in --once: a delivery in flight is rolled back with its transaction, sent again later.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(work())


@webhooks_app.command("seal-secrets")
def seal_webhook_secrets() -> None:
    """Seal, with WEBHOOK_SECRET_KEY, the webhook secrets stored before secrets were sealed
    (new ones are sealed as they are stored). Safe to run again: it seals what is left."""
    from services.register.events.service import seal_stored_secrets

    settings = _settings()

    async def work(session):
        return await seal_stored_secrets(session, settings)

    sealed = asyncio.run(_run_in_transaction(database_url(settings), settings, work, "webhooks-seal-secrets"))
    typer.echo(f"{sealed} webhook secrets sealed")


@notifications_app.command("send")
def send_notifications(
    once: Annotated[bool, typer.Option("--once", help="Send what is waiting now, then exit (cron, tests)")] = False,
    interval: Annotated[float, typer.Option(min=1, max=3600, help="Seconds between rounds")] = 10.0,
) -> None:
    """Send unsent notifications (invitations, password resets) by SMTP (SMTP_URL). Without
    SMTP_URL nothing is sent: the notifications wait in the outbox."""
    from services.core.observability import configure_logging
    from services.register.notifications.sender import send_unsent

    settings = _settings()
    if settings.smtp_url is None:
        typer.echo("SMTP_URL is not set: no notification sent (they wait in the outbox)")
        return

    async def work() -> None:
        engine = create_engine(database_url(settings), settings)
        try:
            while True:
                sent = await send_unsent(engine, settings)
                if once:
                    typer.echo(f"{sent} notifications sent")
                    return
                await asyncio.sleep(interval)
        finally:
            await engine.dispose()

    configure_logging(settings.log_level)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(work())


@app.command()
def simulate(
    years: Annotated[int, typer.Option(help="Measured years, after the warm-up")] = 4,
    replications: Annotated[int, typer.Option(help="Replications (common random numbers across policies)")] = 4,
    seed: Annotated[int, typer.Option(help="Seed of the first replication")] = 1,
    out: Annotated[str, typer.Option(help="Folder for the report and its charts")] = "reports/simulation",
    quick: Annotated[bool, typer.Option(help="A small run (5% of England, 2 replications): under 20 s")] = False,
) -> None:
    """Simulate matching policies on a model calibrated to published figures; write a report
    (Markdown with PNG charts, and the same as one HTML page)."""
    import sys
    from dataclasses import replace
    from pathlib import Path

    from services.matching.simulation import experiment as sim
    from services.matching.simulation.model import Assumptions
    from services.matching.simulation.report import write_report

    assumptions = replace(Assumptions(), years=years)
    if quick:
        assumptions, replications = sim.quick(assumptions), 2
    # The out-of-sample check and the sensitivity runs use the first replications' seeds only,
    # which keeps the default run under two minutes; their intervals say how much that costs.
    past, sensitivity = min(replications, 2), 1
    total = sim.steps(replications, tuple(sim.POLICIES), past, sensitivity)
    with typer.progressbar(length=total, label="simulating", file=sys.stderr) as bar:
        result = sim.experiment(
            assumptions,
            replications=replications,
            seed=seed,
            out_of_sample_replications=past,
            sensitivity_replications=sensitivity,
            workers=2,  # the machine's two cores; the result does not depend on it
            on_step=lambda: bar.update(1),
        )
    report = write_report(result, Path(out))
    typer.echo(f"report: {report} and {report.with_suffix('.html')}")


@clients_app.command("create")
def create_client(
    name: Annotated[str, typer.Option(help="What the client is, e.g. 'North RAA case system'")],
    scopes: Annotated[str, typer.Option(help="Space-separated scopes the client may ask for")],
    agency: Annotated[str | None, typer.Option(help="Bind the client's tokens to this agency's ref")] = None,
    public: Annotated[bool, typer.Option(help="A public client (the adopters' app): PKCE, no secret")] = False,
    redirect_uri: Annotated[
        list[str] | None,
        typer.Option(help="Allowed redirect URI: a client that signs adopters in (with --public: no secret)"),
    ] = None,
) -> None:
    """Register a client; its secret is printed once and stored only as a hash."""
    from services.register.oauth.accounts import create_client as create

    settings = _settings()

    async def work(session):
        return await create(
            session,
            name=name,
            scopes=scopes.split(),
            agency_ref=agency,
            redirect_uris=redirect_uri or [],
            public=public,
        )

    try:
        client, secret = asyncio.run(_run_in_transaction(database_url(settings), settings, work, "clients-create"))
    except (ValueError, LookupError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(f"client_id: {client.client_id}")
    typer.echo(f"client_secret: {secret}  (shown once; store it now)" if secret else "public client: no secret")


@adopters_app.command("invite")
def invite_adopter(
    household: Annotated[str, typer.Option(help="The approved household's ref")],
    email: Annotated[str, typer.Option(help="The adopter's sign-in email")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, help="Initial password (at least 12 characters)"
        ),
    ],
) -> None:
    """Create an adopter account bound to one household."""
    from services.register.oauth.accounts import invite_adopter as invite

    settings = _settings()

    async def work(session):
        return await invite(session, household_ref=household, email=email, password=password)

    try:
        account = asyncio.run(_run_in_transaction(database_url(settings), settings, work, "adopters-invite"))
    except (ValueError, LookupError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(f"adopter account {account.ref} for household {account.household_ref}")


@keys_app.command("rotate")
def rotate_keys(
    compromised: Annotated[
        bool,
        typer.Option(
            help="A key may have leaked: retire every current key now and sign with the new one at once "
            "(every token already issued stops verifying)"
        ),
    ] = False,
) -> None:
    """Add a new signing key. It is published first and signs 10 minutes later; tokens signed
    by older keys stay valid until they expire."""
    from datetime import timedelta

    from services.register.oauth.keys import PUBLISH_BEFORE_SIGNING, rotate_signing_key

    settings = _settings()
    lifetime = timedelta(minutes=settings.access_token_minutes)
    kid = asyncio.run(
        _run_in_transaction(
            database_url(settings),
            settings,
            lambda s: rotate_signing_key(s, lifetime, compromised=compromised),
            "keys-rotate",
        )
    )
    when = "now (older keys retired)" if compromised else f"once published for {PUBLISH_BEFORE_SIGNING}"
    typer.echo(f"new signing key {kid}: signs {when}")


@tokens_app.command("issue")
def issue_token(
    subject: Annotated[str, typer.Option(help="Who the token is for")],
    scopes: Annotated[str, typer.Option(help="Space-separated scopes, e.g. 'children:read households:read'")],
    agency: Annotated[str | None, typer.Option(help="Bind the token to this agency's ref")] = None,
    minutes: Annotated[int | None, typer.Option(help="Lifetime (default: ACCESS_TOKEN_MINUTES)")] = None,
) -> None:
    """Mint an access token directly (operators, scripts, the demo). Audited as its subject."""
    typer.echo(asyncio.run(_issue(_settings(), subject, scopes.split(), agency, minutes)))


async def _issue(settings: Settings, subject: str, scopes: list[str], agency: str | None, minutes: int | None) -> str:
    from services.core.auth import Scope
    from services.register.oauth.keys import mint_access_token, signing_key

    unknown = sorted(set(scopes) - {s.value for s in Scope})
    if unknown:
        raise typer.BadParameter(f"unknown scopes: {' '.join(unknown)}")
    key = await _run_in_transaction(database_url(settings), settings, signing_key, "tokens-issue")
    return mint_access_token(
        key,
        settings,
        subject=subject,
        scopes=scopes,
        client_id="cli",
        agency_ref=agency,
        lifetime_seconds=minutes * 60 if minutes else None,
    )


@app.command()
def serve(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    service: Annotated[ServiceName, typer.Option(help="Which API this process serves")] = ServiceName.both,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Server processes (uvicorn's process manager); about one per core")
    ] = 1,
) -> None:
    """Serve the register and matching APIs (both in one process by default), one of them, or the
    adopters' app (`--service adopter-app`, settings `ADOPTER_APP_*`)."""
    _serve(_settings(), host, port, service, workers)


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _serve(
    settings: Settings,
    host: str,
    port: int,
    service: ServiceName = ServiceName.both,
    workers: int = 1,
    extra: "tuple[Any, int] | None" = None,
) -> None:
    from services.core.database import stop_embedded_postgres

    # uvicorn shuts down on SIGTERM, then raises the signal again; with the default action the
    # process would die there without stopping the embedded PostgreSQL. Exit normally instead.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    try:
        _run_server(settings, host, port, service, workers, extra)
    finally:
        stop_embedded_postgres()


def _run_server(
    settings: Settings,
    host: str,
    port: int,
    service: ServiceName,
    workers: int = 1,
    extra: "tuple[Any, int] | None" = None,
) -> None:
    import uvicorn

    from services.core.observability import configure_logging

    url = database_url(settings)  # the embedded server, if any, is started (and held) here, once
    # Our middleware writes one JSON line per request; uvicorn's access log would repeat it.
    # Forwarded headers are read by the app, from TRUSTED_PROXIES only (core/http.py), never
    # by uvicorn, which would believe FORWARDED_ALLOW_IPS.
    options: dict[str, Any] = {
        "host": host,
        "log_config": None,
        "access_log": False,
        "proxy_headers": False,
        "timeout_graceful_shutdown": 20,
    }
    configure_logging(settings.log_level)
    if workers > 1:
        # N processes on one socket, started and restarted by uvicorn's process manager; each
        # builds its own app (engine, pool, token keys, matching pool) from the environment.
        os.environ[WORKER_DATABASE_URL] = url
        os.environ[WORKER_SERVICE] = service.value
        uvicorn.run("services.cli:worker_app", factory=True, workers=workers, port=port, **options)
        return
    application = create_service_app(service, settings, database=url)
    if extra is None:
        uvicorn.run(application, port=port, **options)
        return
    # The demo: a second app (the adopters' app) on its own port in the same process. The
    # first server handles the signals; when it stops, so does the second.
    main = uvicorn.Server(uvicorn.Config(application, port=port, **options))
    side = uvicorn.Server(uvicorn.Config(extra[0], port=extra[1], **options))

    async def both() -> None:
        side_task = asyncio.create_task(side._serve())  # its own serve() would take the signals too
        try:
            await main.serve()
        finally:
            side.should_exit = True
            await side_task

    asyncio.run(both())


WORKER_DATABASE_URL = "ADOPTION_REGISTER_WORKER_DATABASE_URL"
WORKER_SERVICE = "ADOPTION_REGISTER_WORKER_SERVICE"


def worker_app() -> Any:
    """The app of one `serve --workers N` process (uvicorn imports and calls this in each)."""
    from services.core.observability import configure_logging

    settings = _settings()
    configure_logging(settings.log_level)
    return create_service_app(
        ServiceName(os.environ[WORKER_SERVICE]), settings, database=os.environ[WORKER_DATABASE_URL]
    )


@app.command()
def demo(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    app_port: Annotated[int, typer.Option(help="Port of the adopters' app")] = 8002,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic register")] = 1,
) -> None:
    """Migrate, load the synthetic national register (once), and serve both APIs and the
    adopters' app, printing where to look."""
    from pydantic import SecretStr

    from services.adopter_app.app import create_app as create_adopter_app
    from services.adopter_app.settings import AppSettings
    from services.core.migrate import upgrade
    from services.demo import prepare_demo

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for chatty in ("pgserver", "alembic.runtime.migration"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    settings = _settings()
    url = database_url(settings)
    upgrade(url)
    base_url, app_url = f"http://{host}:{port}", f"http://{host}:{app_port}"
    summary, registered = asyncio.run(prepare_demo(url, settings, seed=seed, base_url=base_url, app_url=app_url))
    # The register's password pages send adopters on to the app once a password is set.
    settings = settings.model_copy(update={"adopter_app_url": settings.adopter_app_url or app_url})
    typer.echo(summary)
    app_settings = AppSettings(
        register_url=base_url,
        public_url=app_url,
        client_id=registered.client_id,
        client_secret=SecretStr(registered.client_secret),
        development=True,
    )
    adopter_app = create_adopter_app(app_settings, settings, database=url)
    _serve(settings, host, port, extra=(adopter_app, app_port))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
