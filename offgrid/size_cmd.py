"""``offgrid size …``: design the site (simulate here; optimize and report register themselves)."""

from __future__ import annotations

import typer

size_app = typer.Typer(
    help="Design the site: simulate, optimize, report.",
    no_args_is_help=True,
)
