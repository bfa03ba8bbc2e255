"""``codexctl init``: make a team's repository a codex stacks program folder (docs/architecture.md)."""
