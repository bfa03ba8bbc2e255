"""``codexctl prompt …``: agent prompts and the agent run (SPEC §8)."""

import typer

app = typer.Typer(help="Render agent prompts and codex config, and run the agent in its slot.", no_args_is_help=True)
