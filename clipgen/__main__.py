"""ClipGen's command line: `python -m clipgen --help`."""

from __future__ import annotations

import argparse
import getpass
import sys

from clipgen.config import UnsafeConfigurationError
from clipgen.services.errors import ServiceError


def _admin_create(args: argparse.Namespace) -> int:
    from clipgen.db import session_scope
    from clipgen.services.auth import service as auth

    password = args.password or getpass.getpass("Password for the new admin: ")
    with session_scope() as session:
        admin = auth.create_admin(
            session=session, email=args.email, password=password, display_name=args.name
        )
    print(f"{admin.email} is an admin (user #{admin.id}).")
    return 0


def _admin_list(_args: argparse.Namespace) -> int:
    from clipgen.db import session_scope
    from clipgen.services.auth import service as auth

    with session_scope() as session:
        admins = auth.list_admins(session=session)
    if not admins:
        print("No admins yet. Make one with: python -m clipgen admin create --email E")
    for admin in admins:
        print(f"{admin.id}\t{admin.email}\t{admin.display_name}")
    return 0


def _migrate(_args: argparse.Namespace) -> int:
    from clipgen.db import migrate

    migrate()
    print("Database is up to date.")
    return 0


def _check_config(_args: argparse.Namespace) -> int:
    from clipgen.config import get_settings

    get_settings().check_production_safety()
    print("Configuration is fine.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m clipgen", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    admin = commands.add_parser("admin", help="make and list admin accounts")
    admin_commands = admin.add_subparsers(dest="admin_command", required=True)
    create = admin_commands.add_parser("create", help="make an admin (or promote an account)")
    create.add_argument("--email", required=True)
    create.add_argument("--password", help="asked for when left out")
    create.add_argument("--name", default="", help="display name (default: from the email)")
    create.set_defaults(handler=_admin_create)
    admin_commands.add_parser("list", help="list admins").set_defaults(handler=_admin_list)

    commands.add_parser("migrate", help="apply database migrations").set_defaults(handler=_migrate)
    commands.add_parser(
        "check-config", help="refuse an unsafe production configuration"
    ).set_defaults(handler=_check_config)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except UnsafeConfigurationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
