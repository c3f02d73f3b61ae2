"""The `livedesk` command line (Typer, Rich)."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="livedesk: live coverage engine.")


def main() -> None:
    app()
