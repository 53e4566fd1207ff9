"""The ``kazsim`` command: every command group registered on one typer app."""

from __future__ import annotations

import typer

from sim.cli import batch, calibrate, data, demo, explore, run

app = typer.Typer(
    help="kazsim: militancy and counter-terrorism policing in Kazakhstan, 2011 (agent-based, Mesa).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def kazsim() -> None:
    """kazsim: militancy and counter-terrorism policing in Kazakhstan, 2011 (agent-based, Mesa)."""


app.command()(data.data)
app.command()(run.run)
app.command()(batch.batch)
app.command()(batch.compare)
app.command()(explore.explore)
app.command()(explore.discover)
app.command("sensitivity")(calibrate.sensitivity)
app.command("calibrate")(calibrate.calibrate)
app.command("calibrate-check")(calibrate.calibrate_check)
app.command()(demo.demo)


def main() -> None:
    """Entry point for ``python -m sim.cli``."""
    app()
