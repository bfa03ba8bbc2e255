"""When server-side apply may take fields that another field manager owns.

Forcing (Pulumi's ``pulumi.com/patchForce`` annotation) on every update takes fields from every
other manager: an HPA's ``replicas``, cert-manager's annotations, an operator's status-like
spec fields. Without forcing, such an update fails with a conflict that names the other manager,
which is what a user should see. Forcing is only right on the up that adopts objects the old
tool applied with ``kubectl apply`` (field managers ``kubectl-client-side-apply`` or
``kubectl``): the operator says so with stack config ``codex:adopt: kubectl`` for that up, and
removes it afterwards (docs/security-workflows.md, "Server-side apply").
"""

from __future__ import annotations

from typing import Final

from codex_stacks.errors import ConfigError, Location

ADOPT_KEY: Final = "codex:adopt"
ADOPT_VALUES: Final = ("none", "kubectl")
OLD_TOOL_MANAGERS: Final = ("kubectl-client-side-apply", "kubectl")
"""The field managers ``kubectl apply`` writes (client-side, and ``--server-side``): what adopting takes over."""


def force_conflicts(adopt: str | None) -> bool:
    """Whether this up forces server-side apply conflicts, from ``codex:adopt`` (unset: never)."""
    value = (adopt or "none").strip().lower()
    if value not in ADOPT_VALUES:
        raise ConfigError(
            f"{adopt!r} is not an adoption mode",
            location=Location(path=ADOPT_KEY),
            hint="codex:adopt is 'kubectl' for the one up that takes over objects kubectl applied, else unset",
        )
    return value == "kubectl"
