"""The `madoguchi` command: a Flask CLI group with the project's commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext

from madoguchi import create_app, db
from madoguchi.catalogue import catalogue


def _create_app() -> object:
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Madoguchi: online filing of city administrative procedures."""


@click.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--no-warnings", is_flag=True, help="Print errors only.")
@with_appcontext
def check_command(paths: tuple[Path, ...], no_warnings: bool) -> None:
    """Check procedure files (default: the procedures folder).

    Prints every problem as FILE:LINE:COL: error|warning: MESSAGE and exits
    with status 1 when any file has an error.
    """
    report = catalogue().check(paths)
    for diagnostic in report.diagnostics:
        if no_warnings and diagnostic.severity == "warning":
            continue
        click.echo(str(diagnostic))
    click.echo(report.summary())
    if report.error_count:
        sys.exit(1)


@click.command("migrate")
@with_appcontext
def migrate_command() -> None:
    """Create or upgrade the database schema (Alembic `upgrade head`)."""
    from madoguchi.migrations import upgrade

    upgrade(db.database().engine)
    click.echo(f"database at head ({db.database().dialect})")


@click.command("publish")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--by", default=None, help="Who publishes (recorded with each version).")
@with_appcontext
def publish_command(paths: tuple[Path, ...], by: str | None) -> None:
    """Check procedure files and record each changed one as a new version."""
    report, added = catalogue().publish(db.session(), paths, by=by)
    for diagnostic in report.diagnostics:
        if diagnostic.severity == "error":
            click.echo(str(diagnostic))
    if report.error_count:
        click.echo(report.summary())
        click.echo("nothing published")
        sys.exit(1)
    db.session().commit()
    for row in added:
        click.echo(f"published {row.procedure_id} version {row.version} ({row.fingerprint[:12]})")
    click.echo(f"{len(added)} new version{'s' if len(added) != 1 else ''} published")


@click.command("demo")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--no-serve", is_flag=True, help="Set up the demo database and exit.")
@with_appcontext
def demo_command(host: str, port: int, no_serve: bool) -> None:
    """Set up the embedded database with demo data and serve the app."""
    from madoguchi.migrations import upgrade

    upgrade(db.database().engine)
    report, added = catalogue().publish(db.session(), by="demo")
    if report.error_count:
        for diagnostic in report.diagnostics:
            click.echo(str(diagnostic), err=True)
        raise click.ClickException("the shipped procedures do not pass check")
    db.session().commit()
    click.echo(f"demo database ready: {len(added)} new procedure versions published")
    _demo_staff()
    # Nothing of the set-up may stay open: on SQLite an open transaction
    # holds the write lock that every request needs.
    db.session().close()
    if not no_serve:
        # Flask ignores app.run() inside a CLI command, so serve with werkzeug directly.
        from werkzeug.serving import run_simple

        click.echo(f"serving Madoguchi at http://{host}:{port}/ (Ctrl+C to stop)")
        run_simple(host, port, current_app._get_current_object(), threaded=True)  # type: ignore[attr-defined]


@click.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
@with_appcontext
def audit_verify_command() -> None:
    """Check that no audit row was changed, inserted or deleted.

    Prints `audit log: N rows, chain intact`, or one line per broken row
    (its id, time, action and subject, and what is wrong) and exits with 1.
    """
    from sqlalchemy import func, select

    from madoguchi.documents.context import in_tokyo
    from madoguchi.models import AuditEvent
    from madoguchi.services import audit

    session = db.session()
    problems = audit.verify(session)
    count = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    if not problems:
        click.echo(f"audit log: {count} rows, chain intact")
        return
    what: dict[int, list[str]] = {}
    for problem in problems:
        # verify() words each problem "audit row N <what>"; the row's details are added here.
        text = problem.message.removeprefix(f"audit row {problem.event_id} ")
        what.setdefault(problem.event_id, []).append(text)
    rows = {
        row.id: row for row in session.scalars(select(AuditEvent).where(AuditEvent.id.in_(what)))
    }
    for event_id, texts in what.items():
        row = rows[event_id]
        when = in_tokyo(row.at).isoformat(timespec="seconds")
        click.echo(
            f"audit row {event_id} ({when}, {row.action}, {row.subject or '-'}): "
            + "; ".join(texts)
        )
    click.echo(f"audit log: {count} rows, {len(what)} broken", err=True)
    sys.exit(1)


@click.command("tick")
@click.option(
    "--now",
    "now_text",
    default=None,
    metavar="YYYY-MM-DDTHH:MM",
    help="Act as if it were this time (Japan time unless an offset is given).",
)
@with_appcontext
def tick_command(now_text: str | None) -> None:
    """Fire the workflow timers that are due and send reminders (run it every few minutes).

    Safe to run again, or twice at once: a timer fires once, a reminder is
    sent once.  Exits with 1 when an application could not be handled (it is
    left as it was and tried again on the next run).
    """
    from madoguchi.services import timers

    try:
        now = timers.parse_now(now_text)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--now") from None
    report = timers.tick(now=now)
    for fired in report.fired:
        click.echo(
            f"fired {fired.action} on {fired.receipt_number}"
            f" ({fired.from_state} -> {fired.to_state}, due {fired.due.isoformat()})"
        )
    for reminded in report.reminders:
        click.echo(
            f"reminded {reminded.receipt_number}: {reminded.action} due {reminded.due.isoformat()}"
        )
    for application_id, error in report.errors:
        click.echo(f"application {application_id} failed: {error}", err=True)
    click.echo(report.summary())
    if report.errors:
        sys.exit(1)


# --- staff accounts ------------------------------------------------------------------


def _demo_staff() -> None:
    """Create the demo staff accounts if missing, and print how to log in with them."""
    from madoguchi.services import staff_accounts as sa

    created = sa.ensure_demo_staff()
    rule = "=" * 72
    lines = [
        rule,
        "DEMO-ONLY STAFF ACCOUNTS: never use these credentials outside a demo.",
        "Office room: /office/login",
        f"Password (all accounts): {sa.DEMO_PASSWORD}",
        "Second step: add this key to an authenticator app (time-based, 6 digits):",
        f"  {sa.grouped_secret(sa.DEMO_TOTP_SECRET)}",
        f"  or: {sa.provisioning_uri('demo staff', sa.DEMO_TOTP_SECRET)}",
        "Accounts:",
    ]
    for email, _name, roles in sa.DEMO_STAFF:
        held = ", ".join(f"{office}:{role}" for office, role in roles)
        new = " (created now)" if email in created else ""
        lines.append(f"  {email:34} {held}{new}")
    lines.append(rule)
    click.echo("\n".join(lines))


def _staff_error(problem: Exception) -> click.ClickException:
    return click.ClickException(str(problem))


def _split_role(text: str) -> tuple[str, str]:
    """OFFICE:ROLE to take away: not checked against offices.yaml, which may have lost it."""
    from madoguchi.services import staff_accounts as sa

    office, sep, role = text.strip().partition(":")
    if not sep or not office.strip() or not role.strip():
        raise sa.StaffAccountError(f"{text!r}: write a role as OFFICE:ROLE, like kita:clerk")
    return office.strip(), role.strip()


@click.group("staff", cls=AppGroup)
def staff_group() -> None:
    """Ward-office staff accounts: add, roles, disable, reset-totp, list."""


@staff_group.command("add")
@click.argument("email")
@click.option("--name", required=True, help="The name shown to colleagues.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    metavar="OFFICE:ROLE",
    help="A role at an office, like kita:clerk (repeat for more).",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option(
    "--totp",
    is_flag=True,
    help="Set up the second factor now and print its provisioning URI"
    " (otherwise it is set up at the first login).",
)
def staff_add_command(
    email: str, name: str, roles: tuple[str, ...], password_stdin: bool, totp: bool
) -> None:
    """Create a staff account with its roles (OFFICE:ROLE, office ids from offices.yaml)."""
    from madoguchi.services import staff_accounts as sa

    try:
        parsed = [sa.parse_role(value) for value in roles]
    except sa.StaffAccountError as problem:
        raise click.BadParameter(str(problem), param_hint="'--role'") from None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        new = sa.create_staff(email, name, password, parsed, with_totp=totp)
    except sa.StaffAccountError as problem:
        raise _staff_error(problem) from None
    held = ", ".join(f"{office}:{role}" for office, role in parsed)
    click.echo(f"created staff {new.staff.email} ({held})")
    if new.totp_uri:
        click.echo("authenticator setup (hand it over privately; it is shown only now):")
        click.echo(f"  key: {sa.grouped_secret(new.staff.totp_secret or '')}")
        click.echo(f"  uri: {new.totp_uri}")
    else:
        click.echo("the authenticator app is set up at the first login")


@staff_group.command("roles")
@click.argument("email")
@click.option("--add", "add", multiple=True, metavar="OFFICE:ROLE", help="A role to give.")
@click.option("--remove", "remove", multiple=True, metavar="OFFICE:ROLE", help="A role to take.")
def staff_roles_command(email: str, add: tuple[str, ...], remove: tuple[str, ...]) -> None:
    """Give or take roles; with neither option, show the roles held."""
    from madoguchi.services import staff_accounts as sa

    try:
        to_add = [sa.parse_role(value) for value in add]
        to_remove = [_split_role(value) for value in remove]
        change = sa.change_roles(email, to_add, to_remove)
    except sa.StaffAccountError as problem:
        raise _staff_error(problem) from None
    for office, role in change.added:
        click.echo(f"added {office}:{role}")
    for office, role in change.removed:
        click.echo(f"removed {office}:{role}")
    for office, role in change.not_held:
        click.echo(f"warning: {change.staff.email} does not hold {office}:{role}", err=True)
    held = ", ".join(f"{r.office_id}:{r.role}" for r in change.staff.roles) or "(none)"
    click.echo(f"{change.staff.email} holds: {held}")


@staff_group.command("disable")
@click.argument("email")
def staff_disable_command(email: str) -> None:
    """Disable an account: it can no longer log in, and its session stops working."""
    from madoguchi.services import staff_accounts as sa

    try:
        changed = sa.disable_staff(email)
    except sa.StaffAccountError as problem:
        raise _staff_error(problem) from None
    click.echo(f"disabled {sa.normalise_email(email)}" if changed else "already disabled")


@staff_group.command("reset-totp")
@click.argument("email")
def staff_reset_totp_command(email: str) -> None:
    """Forget the authenticator app (a lost phone): it is set up again at the next login."""
    from madoguchi.services import staff_accounts as sa

    try:
        sa.reset_totp(email)
    except sa.StaffAccountError as problem:
        raise _staff_error(problem) from None
    click.echo(f"second factor of {sa.normalise_email(email)} reset: set up again at next login")


@staff_group.command("list")
def staff_list_command() -> None:
    """List staff accounts, one a line: email, name, state, second factor, roles (tab-separated)."""
    from madoguchi.services import staff_accounts as sa

    everyone = sa.list_staff()
    if not everyone:
        click.echo("no staff accounts")
        return
    for staff in everyone:
        state = "active" if staff.active else "disabled"
        totp = "totp" if staff.totp_confirmed_at else "no-totp"
        held = ", ".join(f"{r.office_id}:{r.role}" for r in staff.roles) or "-"
        click.echo(f"{staff.email}\t{staff.name}\t{state}\t{totp}\t{held}")


@click.command("verify")
@click.argument("receipt_number")
@with_appcontext
def verify_command(receipt_number: str) -> None:
    """Check the applicant's signature of an application (exit 0 only when valid)."""
    from sqlalchemy import select

    from madoguchi.models import Application
    from madoguchi.signatures import verify_application

    session = db.session()
    application = session.scalars(
        select(Application).where(Application.receipt_number == receipt_number)
    ).first()
    if application is None:
        click.echo(f"{receipt_number}: no such application", err=True)
        sys.exit(1)
    result = verify_application(session, application)
    if result is None:
        click.echo(f"{receipt_number}: unsigned")
        sys.exit(1)
    when = result.signed_at.isoformat(timespec="seconds") if result.signed_at else "-"
    click.echo(
        f"{receipt_number}: {result.status} ({result.signer_name}, {when}): {result.message}"
    )
    if not result.valid:
        sys.exit(1)


COMMANDS = (
    check_command,
    migrate_command,
    publish_command,
    demo_command,
    audit_group,
    tick_command,
    staff_group,
    verify_command,
)


def init_app(app: Flask) -> None:
    """Register the commands on the app, where `madoguchi` and `flask` both find them."""
    from madoguchi.payments.cli import payments_group

    app.cli.add_command(payments_group)
    for command in COMMANDS:
        app.cli.add_command(command)
