"""``codexctl ci …``: the CI logic every project repository used to copy (SPEC §7)."""

import typer

app = typer.Typer(
    help="CI steps on the Pulumi Automation API: slots, up, images, prompt, cleanup.", no_args_is_help=True
)
