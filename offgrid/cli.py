"""The ``offgrid`` command: every command and sub-command, registered here and only here.

Each ``*_cmd`` module defines plain functions and imports nothing from this module; the helpers
they share (argument types, output, errors turned into exit codes) are in
:mod:`offgrid.common`. Importing this module stays light: each command imports its engine
(pandas, numba, fastapi, sqlite-utils, pymodbus…) only when it runs.
"""

from __future__ import annotations

import typer

from offgrid import (
    check_cmd,
    demo_cmd,
    fleetsim_cmd,
    hub_cmd,
    keys_cmd,
    run_cmd,
    serve_cmd,
    sim_cmd,
    size_cmd,
    size_optimize_cmd,
)

app = typer.Typer(
    name="offgrid",
    help="Design, run and watch off-grid solar microgrids.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
size_app = typer.Typer(name="size", help="Design the site: simulate, optimize, report.",
                       no_args_is_help=True)
keys_app = typer.Typer(name="keys", help="API keys: create (shown once), list, revoke.",
                       no_args_is_help=True)


@app.callback()
def _root() -> None:
    """Design, run and watch off-grid solar microgrids."""


app.command("check")(check_cmd.check)
size_app.command("simulate")(size_cmd.simulate_cmd)
size_app.command("optimize")(size_optimize_cmd.optimize_cmd)
size_app.command("report")(size_optimize_cmd.report_cmd)
app.add_typer(size_app)
app.command("sim")(sim_cmd.sim)
app.command("run")(run_cmd.run)
app.command("serve")(serve_cmd.serve)
keys_app.command("create")(keys_cmd.create)
keys_app.command("list")(keys_cmd.list_)
keys_app.command("revoke")(keys_cmd.revoke)
app.add_typer(keys_app)
hub_app = typer.Typer(name="hub", help="The fleet hub: broker credentials, ingest, API and "
                      "dashboard.", no_args_is_help=True)
hub_app.command("enroll")(hub_cmd.enroll)
hub_app.command("run")(hub_cmd.run)
hub_app.command("serve")(hub_cmd.serve)
hub_keys_app = typer.Typer(name="keys", help="The fleet API's keys: create (shown once), list, "
                           "revoke.", no_args_is_help=True)
hub_keys_app.command("create")(hub_cmd.keys_create)
hub_keys_app.command("list")(hub_cmd.keys_list)
hub_keys_app.command("revoke")(hub_cmd.keys_revoke)
hub_app.add_typer(hub_keys_app)
app.add_typer(hub_app)
app.command("demo")(demo_cmd.demo)
app.command("fleetsim")(fleetsim_cmd.fleetsim)
app.command("fleet-demo")(fleetsim_cmd.fleet_demo)


def main() -> None:
    """Entry point for ``python -m offgrid``."""
    app()
