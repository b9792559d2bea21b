"""The `madoguchi` command: a Flask CLI group with the project's commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

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
    if not no_serve:
        current_app.run(host=host, port=port, debug=False)


COMMANDS = (check_command, migrate_command, publish_command, demo_command)


def init_app(app: Flask) -> None:
    """Register the commands on the app, where `madoguchi` and `flask` both find them."""
    for command in COMMANDS:
        app.cli.add_command(command)
