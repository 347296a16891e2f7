"""Command-line interface: `flask --app wsgi <command>`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from app.devserver import DEMO_LOGINS_MARKER
from app.extensions import db
from app.services.db import committed
from app.services.errors import ServiceError


def _echo_demo_logins() -> None:
    from app.services.demo import demo_logins

    for login in demo_logins():
        where = f"  ({login.location})" if login.location else ""
        click.echo(f"  {login.role:<10} {login.username:<16} {login.password}{where}")


def register_cli(app: Flask) -> None:
    users_cli = AppGroup("users", help="Manage users.")
    tokens_cli = AppGroup("tokens", help="Manage API tokens.")

    @users_cli.command("create")
    @click.argument("username")
    @click.option("--role", required=True, type=click.Choice(["admin", "supervisor", "staff"]))
    @click.option("--location", "locations", multiple=True, help="Location code; repeat for several.")
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    def create_user_cmd(username: str, role: str, locations: tuple[str, ...], password: str) -> None:
        """Create a user."""
        from app.services.users import create_user

        try:
            user = committed(create_user, username, role, password, list(locations))
        except ServiceError as exc:
            details = "; ".join(f"{k}: {v}" for k, v in exc.details.items())
            raise click.ClickException(f"{exc.message} {details}".strip()) from None
        click.echo(f"Created {user.role} {user.username}.")

    @tokens_cli.command("create")
    @click.argument("username")
    @click.option("--name", default=None, help="A label for the token, e.g. the system that uses it.")
    def create_token_cmd(username: str, name: str | None) -> None:
        """Create an API token and print only the token."""
        from app.services.users import create_token

        try:
            click.echo(committed(create_token, username, name))
        except ServiceError as exc:
            raise click.ClickException(exc.message) from None

    @app.cli.command("seed-demo")
    def seed_demo_cmd() -> None:
        """Create the demo brand (idempotent)."""
        from app.services.demo import seed_demo

        created = seed_demo()
        click.echo("Demo brand ready: " + ", ".join(f"{v} {k}" for k, v in created.items()) + " created.")

    @app.cli.command("seed-demo-if-empty")
    @click.option("--print-logins", is_flag=True,
                  help=f"Then a line {DEMO_LOGINS_MARKER!r} and the demo logins (`make run` shows them later).")
    def seed_if_empty_cmd(print_logins: bool) -> None:
        """Seed the demo brand only when the database has no users yet (used by `make run`)."""
        from app.models import User
        from app.services.demo import seed_demo

        if db.session.scalar(select(User.id).limit(1)) is None:
            seed_demo()
            click.echo("Seeded the demo brand.")
        else:
            click.echo("Database already has data; not seeding.")
        if print_logins:  # one process fewer for `make run` to start (each costs ~2.5 s of imports)
            click.echo(DEMO_LOGINS_MARKER)
            _echo_demo_logins()

    @app.cli.command("demo-shop")
    @click.argument("simulator_url")
    def demo_shop_cmd(simulator_url: str) -> None:
        """Point the demo brand's `web` channel at a simulated Shopify shop (used by `make run`) and
        print the SKUs its orders may use; print nothing when this is not the demo's database (no
        `web` channel, or one connected to a real shop)."""
        from app.services.channels.demo import connect_demo_shop

        skus = connect_demo_shop("web", simulator_url)
        if skus:
            click.echo(",".join(skus))

    @app.cli.command("demo-logins")
    def demo_logins_cmd() -> None:
        """Print the demo logins."""
        _echo_demo_logins()

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
    @click.argument("queues", nargs=-1)
    def worker_cmd(burst: bool, queues: tuple[str, ...]) -> None:
        """Run an RQ worker with the scheduler (delayed jobs and periodic jobs)."""
        from app.worker import run_worker

        run_worker(list(queues) or None, burst=burst)

    kpis_cli = AppGroup("kpis", help="KPI rollups.")

    @kpis_cli.command("rebuild")
    @click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day (YYYY-MM-DD).")
    @click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last day (YYYY-MM-DD).")
    def kpis_rebuild_cmd(start, end) -> None:
        """Recompute the KPI figures of these days (each location's calendar) from the history."""
        from app.services.kpi_rollups import rebuild

        if end < start:
            raise click.ClickException("--to is before --from: swap them.")
        result = rebuild(start.date(), end.date())
        click.echo(f"KPI days {result['from']} to {result['to']}: {result['days']} rows, "
                   f"{result['buckets']} distribution rows, {result['reasons']} reason rows.")

    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(kpis_cli)
    from app.services.planning.cli import register_planning_cli

    register_planning_cli(app)
