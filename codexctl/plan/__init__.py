"""What a stack deploys, decided in pure Python (no Pulumi imports here)."""

from codexctl.plan.build import (
    AGENT_SERVICE,
    ComponentPlan,
    Link,
    Plan,
    Skipped,
    build_plan,
    load_settings,
    resolve_stack,
)
from codexctl.plan.objects import KubeObject
from codexctl.plan.target import MODES, Mode, PlanRequest, Target

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
