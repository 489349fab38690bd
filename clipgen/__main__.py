"""ClipGen's command line: `python -m clipgen --help`."""

from __future__ import annotations

import argparse
import getpass
import sys

from clipgen.config import UnsafeConfigurationError
from clipgen.pipeline import options as opts
from clipgen.pipeline.errors import PipelineError
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
    from pydantic import ValidationError

    from clipgen.config import get_settings

    try:
        settings = get_settings()
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(part) for part in problem['loc']).upper()}: {problem['msg']}"
            for problem in error.errors()
        ]
        raise UnsafeConfigurationError(
            "Some settings are not valid:\n- " + "\n- ".join(problems)
        ) from None
    settings.check_production_safety()
    print("Configuration is fine.")
    return 0


def _generate(args: argparse.Namespace) -> int:
    import json
    import time

    from clipgen.config import get_settings
    from clipgen.pipeline.run import generate_clips
    from clipgen.pipeline.types import GenerateOptions

    last_line = [0.0, ""]

    def report(stage: str, percent: float) -> None:
        line = f"{stage:<11} {percent:5.1f}%"
        now = time.monotonic()
        # Every stage start and end, and at most two updates a second in between.
        if percent in (0.0, 100.0) or now - last_line[0] >= 0.5 or stage != last_line[1]:
            print(line, file=sys.stderr, flush=True)
            last_line[:] = [now, stage]

    options = GenerateOptions(
        clips=args.clips,
        min_seconds=args.min,
        max_seconds=args.max,
        aspect=args.aspect,
        captions=args.captions,
        layout=args.layout,
        language=args.language,
        prompt=args.prompt,
    )
    settings = get_settings()
    manifest = generate_clips(
        args.video,
        args.out,
        options,
        progress=report,
        max_duration_s=settings.max_video_minutes * 60,
    )
    if args.json:
        print(json.dumps(manifest, indent=2))
    else:
        for clip in manifest["clips"]:
            print(
                f"#{clip['rank']}  {clip['score']}/10  {clip['start']:.1f}-{clip['end']:.1f}s  "
                f"{clip['title']}\n    {clip['video']}"
            )
        if manifest["fallback_reason"]:
            print(f"note: {manifest['fallback_reason']}")
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

    generate = commands.add_parser(
        "generate", help="turn a long video into ranked, captioned clips"
    )
    generate.add_argument("video", help="the long video (MP4, MOV, MKV or WebM)")
    generate.add_argument("--out", required=True, help="folder for the clips and manifest.json")
    low, high, _label = opts.LENGTH_PRESETS[opts.DEFAULT_LENGTH]
    generate.add_argument(
        "--clips",
        type=int,
        default=opts.DEFAULT_CLIPS,
        help=f"how many clips ({opts.MIN_CLIPS}-{opts.MAX_CLIPS}, default {opts.DEFAULT_CLIPS})",
    )
    generate.add_argument("--min", type=float, default=low, help="shortest clip in seconds")
    generate.add_argument("--max", type=float, default=high, help="longest clip in seconds")
    generate.add_argument("--aspect", choices=list(opts.ASPECTS), default=opts.DEFAULT_ASPECT)
    generate.add_argument(
        "--captions", choices=list(opts.CAPTION_STYLES), default=opts.DEFAULT_CAPTIONS
    )
    generate.add_argument(
        "--layout",
        choices=list(opts.LAYOUTS),
        default=opts.DEFAULT_LAYOUT,
        help="two people on screen: auto (the speaker, both stacked when unclear), "
        "speaker, split (both stacked) or fit (the whole frame)",
    )
    generate.add_argument("--language", default="auto", help="auto, en, ... (default auto)")
    generate.add_argument("--prompt", default="", help='e.g. "moments about money"')
    generate.add_argument("--json", action="store_true", help="print the manifest as JSON")
    generate.set_defaults(handler=_generate)

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
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except UnsafeConfigurationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
