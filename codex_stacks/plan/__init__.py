"""What a stack deploys, decided in pure Python (no Pulumi imports here)."""

from codex_stacks.plan.build import (
    AGENT_SERVICE,
    ComponentPlan,
    Link,
    Plan,
    Skipped,
    build_plan,
    load_settings,
    resolve_stack,
)
from codex_stacks.plan.objects import KubeObject
from codex_stacks.plan.target import MODES, Mode, PlanRequest, Target

__all__ = [
    "AGENT_SERVICE",
    "MODES",
    "ComponentPlan",
    "KubeObject",
    "Link",
    "Mode",
    "Plan",
    "PlanRequest",
    "Skipped",
    "Target",
    "build_plan",
    "load_settings",
    "resolve_stack",
]
