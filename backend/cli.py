"""The `fieldbook` command: serve, worker, migrate, demo, org create, user create, stores import.

Errors print one line (`fieldbook: error: ...`) and exit 1; usage errors exit 2. Never a traceback, unless
FIELDBOOK_LOG_LEVEL=debug.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import msgspec

import backend  # noqa: F401  (sets PICCOLO_CONF)
from backend import db
from backend.errors import DomainError
from backend.settings import Settings, SettingsError, get_settings


class CliError(Exception):
    """A failure to report in one line."""


def _fail(message: str, code: int = 1) -> NoReturn:
    print(f"fieldbook: error: {message}", file=sys.stderr)
    raise SystemExit(code)


async def _with_database(settings: Settings, work: Callable[[], Awaitable[Any]]) -> Any:
    engine = db.use_engine(db.build_engine(settings.database_url_resolved()))
    await db.start(engine)
    try:
        return await work()
    finally:
        await db.stop(engine)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    host = args.host or settings.host
    port = args.port or settings.port
    workers = args.workers or settings.workers
    if workers > 1 and settings.database_url_resolved().startswith("sqlite"):
        raise CliError("several worker processes need PostgreSQL (set FIELDBOOK_DATABASE_URL); SQLite serves one")
    # uvicorn's worker processes build the app from the environment, so pass the choices there.
    os.environ["FIELDBOOK_IN_PROCESS_WORKER"] = "false" if args.no_worker else "true"
    print(f"Fieldbook on http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}", flush=True)
    uvicorn.run(
        "backend.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        proxy_headers=False,  # client addresses are resolved by backend.auth.throttle from trusted proxies only
        server_header=False,
    )


def cmd_worker(args: argparse.Namespace, settings: Settings) -> None:
    from backend import worker

    async def work() -> None:
        if args.once:
            print(msgspec.json.encode(await worker.run_once(settings)).decode())
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print("fieldbook worker running; Ctrl-C stops it", flush=True)
        await worker.run_forever(settings, stop)

    asyncio.run(_with_database(settings, work))


def cmd_migrate(_: argparse.Namespace, settings: Settings) -> None:
    asyncio.run(_with_database(settings, db.migrate))
    print("Database is up to date")


def cmd_demo(args: argparse.Namespace, settings: Settings) -> None:
    from backend.demo import DatabaseNotEmpty, existing_demo_logins, seed_demo

    async def work() -> Any:
        try:
            return await seed_demo(force=args.force, settings=settings)
        except DatabaseNotEmpty:
            if not args.if_empty:
                raise
            return await existing_demo_logins()

    result = asyncio.run(_with_database(settings, work))
    if result is None:
        print("The database holds data and no demo organisation; nothing seeded.")
        return
    counts = ", ".join(f"{getattr(result, k)} {k}" for k in ("stores", "products", "visits", "inspections"))
    print(f"Demo organisation {result.organization!r}: {counts}; {result.planned_today} stops planned today")
    print("Demo logins:")
    for login in result.logins:
        print(f"  {login.role:<10} {login.email:<34} {login.password}   {login.name}")


def cmd_org_create(args: argparse.Namespace, settings: Settings) -> None:
    from backend.orgs.services import create_organization

    org = asyncio.run(
        _with_database(
            settings,
            lambda: create_organization(
                args.name, time_zone=args.time_zone, locale=args.locale, currency=args.currency
            ),
        )
    )
    print(f"Created organisation {org.name!r} ({org.id})")


def cmd_user_create(args: argparse.Namespace, settings: Settings) -> None:
    from backend.orgs.schemas import UserCreate
    from backend.orgs.services import create_user, find_organization, find_user_by_email

    async def work() -> Any:
        org = await find_organization(args.org)
        supervisor_id = None
        if args.supervisor:
            row = await find_user_by_email(args.supervisor)
            if row is None or row["org_id"] != org.id:
                raise CliError(f"no user {args.supervisor!r} in organisation {org.name!r}")
            supervisor_id = row["id"]
        data = msgspec.convert(
            {
                "email": args.email,
                "password": args.password,
                "name": args.name or args.email.split("@")[0],
                "role": args.role,
                "supervisor_id": supervisor_id,
            },
            UserCreate,
        )
        return await create_user(org.id, data)

    user = asyncio.run(_with_database(settings, work))
    print(f"Created {user.role} {user.email} ({user.id})")


def cmd_stores_import(args: argparse.Namespace, settings: Settings) -> None:
    from backend.auth.principal import Principal
    from backend.orgs.services import find_organization, first_admin
    from backend.stores.csv_import import import_stores

    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"no file {path}")
    body = path.read_bytes()

    async def work() -> Any:
        org = await find_organization(args.org)
        admin = await first_admin(org.id)
        if admin is None:
            raise CliError(f"{org.name!r} has no active admin; create one with `fieldbook user create --role admin`")
        # The import runs as that admin, with exactly the rules and scope of the API.
        return await import_stores(Principal(user_id=admin.id, org_id=org.id, role="admin", email=admin.email), body)

    result = asyncio.run(_with_database(settings, work))
    print(f"Imported {path.name}: {result.created} created, {result.updated} updated")


def cmd_route_solve(args: argparse.Namespace, settings: Settings) -> None:
    """Needs no database: a problem in, a solution out (what the benchmarks and integrators use)."""
    from backend.planning.cli_solve import run

    code = run(args.file, sys.stdout)
    if code:
        raise SystemExit(code)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fieldbook", description="Fieldbook: offline-first field sales.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the API and the app")
    serve.add_argument("--host", help="address to listen on (FIELDBOOK_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (FIELDBOOK_PORT, default 8000)")
    serve.add_argument("--workers", type=int, help="app processes (FIELDBOOK_WORKERS; >1 needs PostgreSQL)")
    serve.add_argument("--no-worker", action="store_true", help="don't run background jobs in-process")
    serve.set_defaults(run=cmd_serve)

    worker = commands.add_parser("worker", help="run the background jobs alone (production)")
    worker.add_argument("--once", action="store_true", help="run every job once and exit")
    worker.set_defaults(run=cmd_worker)

    commands.add_parser("migrate", help="apply pending database migrations").set_defaults(run=cmd_migrate)

    demo = commands.add_parser("demo", help="seed demo data into an empty database and print the logins")
    demo.add_argument("--force", action="store_true", help="seed even when the database holds other data")
    demo.add_argument("--if-empty", action="store_true", help="when not empty, just print the demo logins")
    demo.set_defaults(run=cmd_demo)

    org = commands.add_parser("org", help="organisations").add_subparsers(dest="org_command", required=True)
    org_create = org.add_parser("create", help="create an organisation")
    org_create.add_argument("name")
    org_create.add_argument("--time-zone", default="UTC", help="IANA time zone, e.g. Asia/Shanghai")
    org_create.add_argument("--locale", default="en", choices=["en", "zh-CN"])
    org_create.add_argument("--currency", default="USD", help="ISO 4217 code")
    org_create.set_defaults(run=cmd_org_create)

    user = commands.add_parser("user", help="users").add_subparsers(dest="user_command", required=True)
    user_create = user.add_parser("create", help="create a user")
    user_create.add_argument("--org", required=True, help="organisation name or id")
    user_create.add_argument("--email", required=True)
    user_create.add_argument("--password", required=True, help="at least 10 characters")
    user_create.add_argument("--role", required=True, choices=["rep", "supervisor", "admin"])
    user_create.add_argument("--name", help="display name (default: the email's local part)")
    user_create.add_argument("--supervisor", metavar="EMAIL", help="the supervisor's email (team membership)")
    user_create.set_defaults(run=cmd_user_create)

    stores = commands.add_parser("stores", help="stores").add_subparsers(dest="stores_command", required=True)
    stores_import = stores.add_parser("import", help="import stores from CSV (all rows or none)")
    stores_import.add_argument("file", metavar="FILE.csv")
    stores_import.add_argument("--org", required=True, help="organisation name or id")
    stores_import.set_defaults(run=cmd_stores_import)

    route = commands.add_parser("route", help="the route planner").add_subparsers(dest="route_command", required=True)
    route_solve = route.add_parser("solve", help="solve a problem given as JSON (docs/planning.md), print the plan")
    route_solve.add_argument("file", metavar="FILE.json", help="the problem; - reads standard input")
    route_solve.set_defaults(run=cmd_route_solve)
    return parser


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "no such table" in text or ("does not exist" in text and "relation" in text):
        return f"the database is not set up ({text}); run `fieldbook migrate` first"
    return text


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
        args.run(args, settings)
    except (CliError, SettingsError) as exc:
        _fail(str(exc))
    except msgspec.ValidationError as exc:
        message, _, where = str(exc).partition(" - at `$.")
        _fail(f"{where.rstrip('`')}: {message}" if where else message)
    except DomainError as exc:
        print(f"fieldbook: error: {exc.detail}", file=sys.stderr)
        for error in exc.errors[:50] if len(exc.errors) > 1 else []:
            print(f"  {error.field}: {error.message}", file=sys.stderr)
        if len(exc.errors) > 50:
            print(f"  ... and {len(exc.errors) - 50} more", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except Exception as exc:
        if os.environ.get("FIELDBOOK_LOG_LEVEL", "").lower() == "debug":
            raise
        _fail(_describe(exc))


if __name__ == "__main__":
    main()
