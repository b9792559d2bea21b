"""`madoguchi payments reconcile|deliver`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from madoguchi import db


@click.group("payments")
def payments_group() -> None:
    """Cashless payments: reconcile with the provider, re-send the stand-in's webhooks."""


@payments_group.command("reconcile")
@with_appcontext
def reconcile_command() -> None:
    """Ask the provider about every payment still pending and record what it says."""
    from madoguchi.payments import service

    moved = service.reconcile(db.session())
    db.commit()
    for payment in moved:
        click.echo(f"payment {payment.public_id}: {payment.status}")
    click.echo(f"{len(moved)} payment(s) moved")


@payments_group.command("deliver")
@with_appcontext
def deliver_command() -> None:
    """The stand-in provider: re-send the webhooks not delivered yet."""
    from madoguchi.payments import stub

    delivered, pending = stub.deliver_pending()
    click.echo(f"{delivered} delivered, {pending} still pending")
