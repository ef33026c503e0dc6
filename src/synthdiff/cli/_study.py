"""``synthdiff study``: create, serve and export a human-judgment study (the ``study`` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synthdiff.cli._common import SynthdiffTyper, app, counted, friendly_errors, out
from synthdiff.errors import InvalidArgumentError

study_app = SynthdiffTyper(help="Human-judgment studies on image pairs (web app).", no_args_is_help=True)
app.add_typer(study_app, name="study")

DatabaseOption = Annotated[
    str,
    typer.Option(
        "--database-url",
        envvar="SYNTHDIFF_STUDY_DATABASE_URL",
        help="sqlite:///file.db or postgresql://user:password@host/db.",
    ),
]
DEFAULT_URL = "sqlite:///synthdiff-study.db"


@study_app.command("init")
@friendly_errors
def init_command(
    pairs: Annotated[
        Path, typer.Option("--pairs", help="Pairs CSV: pair_id,image_a,image_b[,reference,trap_answer,...].")
    ],
    question: Annotated[str, typer.Option("--question", help="yesno, 2afc or rating.")],
    images_root: Annotated[
        Path, typer.Option("--images-root", help="The only folder images are served from.")
    ],
    database_url: DatabaseOption = DEFAULT_URL,
    name: Annotated[str | None, typer.Option("--name", help="Study name (default: the CSV's name).")] = None,
    prompt: Annotated[
        str | None, typer.Option("--prompt", help="The question shown to participants.")
    ] = None,
    answers_per_pair: Annotated[
        int, typer.Option("--answers-per-pair", help="K answers wanted per pair.")
    ] = 5,
    trap_rate: Annotated[
        float, typer.Option("--trap-rate", help="Share of pairs drawn from the trap pairs.")
    ] = 0.1,
    reservation_minutes: Annotated[
        float,
        typer.Option(
            "--reservation-minutes", help="How long a pair handed out stays reserved for its participant."
        ),
    ] = 5.0,
    leaderboard: Annotated[
        bool, typer.Option("--leaderboard/--no-leaderboard", help="Points and a leaderboard.")
    ] = False,
    reliability_threshold: Annotated[
        float, typer.Option("--reliability-threshold", help="Flag participants below this trap accuracy.")
    ] = 0.7,
    min_traps: Annotated[
        int, typer.Option("--min-traps", help="Traps answered before anyone is flagged.")
    ] = 3,
    min_response_ms: Annotated[
        int, typer.Option("--min-response-ms", help="Faster answers earn no points.")
    ] = 500,
    max_answers: Annotated[
        int | None, typer.Option("--max-answers", help="Cap on answers per participant.")
    ] = None,
    invitations: Annotated[
        int, typer.Option("--invitations", help="Make N invitation codes (sign-up needs one).")
    ] = 0,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for pair, side and trap choices.")] = None,
) -> None:
    """Create a study from a pairs file and print the generated admin password (shown once)."""
    from synthdiff.study import StudySettings, create_study

    created = create_study(
        pairs,
        question,
        images_root,
        database_url=database_url,
        name=name,
        prompt=prompt,
        settings=StudySettings(
            answers_per_pair=answers_per_pair,
            trap_rate=trap_rate,
            reservation_minutes=reservation_minutes,
            leaderboard=leaderboard,
            reliability_threshold=reliability_threshold,
            min_traps=min_traps,
            min_response_ms=min_response_ms,
            max_answers_per_participant=max_answers,
        ),
        invitations=invitations,
        seed=seed,
    )
    out.print(
        f"Study {created.name!r} ({created.question}): {counted(created.pairs, 'pair')} + "
        f"{counted(created.trap_pairs, 'trap pair')} in {created.database_url}",
        highlight=False,
    )
    out.print(f"admin user: {created.admin_username}", highlight=False)
    out.print(
        f"admin password: {created.admin_password}  (shown once; stored only as a hash)", highlight=False
    )
    for code in created.invitation_codes:
        out.print(f"invitation: {code}", highlight=False)
    out.print(f"Next: synthdiff study serve --database-url {database_url}", highlight=False)


@study_app.command("serve")
@friendly_errors
def serve_command(
    database_url: DatabaseOption = DEFAULT_URL,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    secure_cookies: Annotated[
        bool, typer.Option("--secure-cookies", help="Mark cookies Secure (when served over HTTPS).")
    ] = False,
) -> None:
    """Run the study's web server (no debug mode; stop it with Ctrl-C, nothing answered is lost)."""
    import uvicorn

    from synthdiff.study import create_app

    application = create_app(database_url, secure_cookies=secure_cookies)
    _check_port(host, port)
    out.print(f"Serving on http://{host}:{port}/ (Ctrl-C to stop)", highlight=False)
    uvicorn.run(application, host=host, port=port, log_level="warning", server_header=False)


def _check_port(host: str, port: int) -> None:
    """Refuse a port that cannot be listened on before the server starts (uvicorn would say so only after
    this command had announced it was serving)."""
    import errno
    import socket

    if not 1 <= port <= 65535:
        raise InvalidArgumentError(f"Expected --port from 1 to 65535, got {port}.")
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            # As uvicorn binds: a port held only by closed connections (TIME_WAIT) is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:
        reason = error.strerror or str(error)
        if isinstance(error, socket.gaierror) or error.errno == errno.EADDRNOTAVAIL:
            raise InvalidArgumentError(
                f"Expected --host to be an address of this machine, got {host!r} ({reason}). Fix: 127.0.0.1 "
                "(this machine only, the default) or 0.0.0.0 (every network interface)."
            ) from None
        other = port + 1 if port < 65535 else 8000
        raise InvalidArgumentError(
            f"Expected to listen on {host}:{port}, but cannot ({reason}): another program, or a study server "
            f"already running, may hold it. Fix: pass another --port, such as {other}."
        ) from None


@study_app.command("export")
@friendly_errors
def export_command(
    output: Annotated[Path, typer.Option("--out", "-o", help="Folder for the CSV and JSON files.")],
    database_url: DatabaseOption = DEFAULT_URL,
    include_flagged: Annotated[
        bool, typer.Option("--include-flagged", help="Keep unreliable (flagged) and excluded participants.")
    ] = False,
    resamples: Annotated[
        int, typer.Option("--resamples", help="Bootstrap resamples for 2AFC scales.")
    ] = 1000,
) -> None:
    """Write answers (long format) and per-pair aggregates as CSV and JSON."""
    from synthdiff.study import export_study

    result = export_study(database_url, output, include_flagged=include_flagged, resamples=resamples)
    out.print(f"{counted(result.answers, 'answer')}, {counted(result.pairs, 'pair')}", highlight=False)
    for path in result.files:
        out.print(f"  {path}", highlight=False)


@study_app.command("invite")
@friendly_errors
def invite_command(
    count: Annotated[int, typer.Option("--count", help="How many codes.")] = 10,
    database_url: DatabaseOption = DEFAULT_URL,
) -> None:
    """Make invitation codes; from then on, signing up needs one."""
    from synthdiff.study import add_invitations

    for code in add_invitations(database_url, count):
        out.print(code, highlight=False)
