"""`flask plan` and `flask replan-out-of-stock`."""

from __future__ import annotations

import time

import click
from flask import Flask


def register_planning_cli(app: Flask) -> None:
    @app.cli.command("plan")
    @click.option("--chunk-size", default=500, show_default=True, help="Orders per transaction.")
    def plan_cmd(chunk_size: int) -> None:
        """Plan every waiting order now and print a summary."""
        from app.services.planning.batch import plan_batch

        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            click.echo(f"  {done}/{total} orders", err=True)

        counts = plan_batch(chunk_size=chunk_size, progress=progress)
        total = sum(counts.values())
        summary = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(counts.items())) or "nothing to plan"
        click.echo(f"Planned {total} order(s) in {time.perf_counter() - started:.1f}s: {summary}.")

    @app.cli.command("replan-out-of-stock")
    def replan_cmd() -> None:
        """Try every out-of-stock package again now."""
        from app.services.planning import replan_out_of_stock

        counts = replan_out_of_stock()
        summary = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(counts.items()))
        click.echo(f"Re-planned out-of-stock packages: {summary or 'none waiting'}.")
