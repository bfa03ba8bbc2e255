"""codex stacks: stack config → Plan → components → stack outputs.

`pulumi up -s ai-slot-3` runs this file; `codexctl preview` runs it too, offline, under mocks.
"""

import pulumi

from codexctl.errors import CodexError
from codexctl.plan import build_plan
from components.settings import plan_request
from components.stack import deploy, outputs

try:
    request = plan_request()
    plan = build_plan(request)  # all of services.yaml and every template, before any resource
except CodexError as error:
    raise pulumi.RunError(str(error)) from error

deployed = deploy(plan)
for key, value in outputs(plan).items():
    pulumi.export(key, value)
pulumi.export("repairTargets", deployed.repair_targets(plan))
