"""One reading of a stack's settings for every ``ci`` command, the program's own.

``pulumi up -s S`` gives the program the defaults of ``Pulumi.yaml`` overlaid with the stack
file ``<program>/<stackConfigDir>/Pulumi.<S>.yaml``; codex_stacks.stackconfig reads exactly that
for the program and for codexctl. Here it is read once per command, with the command line's
``--project-dir``/``--mode`` on top only when they were given: a stack file's
``codex:projectDir`` is never replaced by a default behind the user's back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codex_stacks.plan import PlanRequest, Target
from codex_stacks.stackconfig import program_config, stack_request, with_overrides


@dataclass(frozen=True, slots=True)
class StackSettings:
    stack: str
    program_dir: Path
    request: PlanRequest
    """What the program would plan for this stack (project folder, namespace, vars, mode …)."""
    explicit_project_dir: Path | None

    @property
    def project_dir(self) -> Path:
        return self.request.project_dir

    def config(self, *, mode: str | None = None) -> dict[str, str]:
        """The stack's ``codex:*`` config with the command line on top, as ``pulumi up`` hands it
        to the program (for an offline run of the program, e.g. the repair targets)."""
        return with_overrides(
            program_config(self.stack, program_dir=self.program_dir),
            project_dir=self.explicit_project_dir,
            mode=mode,
        )

    def target(self, *, mode: str | None = None) -> Target:
        from codex_stacks.plan import resolve_stack

        return resolve_stack(self.with_mode(mode).request)

    def with_mode(self, mode: str | None) -> StackSettings:
        if mode is None:
            return self
        request = stack_request(
            self.stack, project_dir=self.explicit_project_dir, mode=mode, program_dir=self.program_dir
        )
        return StackSettings(self.stack, self.program_dir, request, self.explicit_project_dir)

    def fixed_mode(self) -> str | None:
        """The mode the stack's environment is fixed to (``mode:`` of a repair-only environment)."""
        from codex_stacks.plan.target import fixed_mode

        return fixed_mode(self.request)


def read_settings(stack: str, *, program_dir: Path, project_dir: Path | None) -> StackSettings:
    """The stack's settings; ``project_dir`` is the command line's (None: the stack file's)."""
    explicit = project_dir.resolve() if project_dir is not None else None
    request = stack_request(stack, project_dir=explicit, program_dir=program_dir)
    return StackSettings(stack=stack, program_dir=program_dir, request=request, explicit_project_dir=explicit)
