"""What every hook step says when it fails, warns or runs out of time (providers/base.py), whole.

Each case is a step as the provider receives it and the exact text a user reads: the error of
``pulumi up`` (``hook <component>/<stage>/<step> failed: …``), or the warning the state keeps
and the engine log shows (``warning: hook …: …``). The helpers here are shared by the other
``test_error_messages_*.py`` files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from codex_stacks.components.hooks.providers.base import HookError, HookProvider
from codex_stacks.components.hooks.providers.shell import ShellStepProvider
from codex_stacks.components.hooks.providers.sleep import SleepProvider
from tests.hooks.helpers import step_props


def failure(provider: HookProvider, props: dict[str, Any], *, verb: str = "create") -> str:
    """The whole error text of one run of a step (create, update or delete)."""
    calls: dict[str, Callable[[], Any]] = {
        "create": lambda: provider.create(props),
        "update": lambda: provider.update("id", {}, props),
        "delete": lambda: provider.delete("id", props),
    }
    with pytest.raises(HookError) as caught:
        calls[verb]()
    return str(caught.value)


def warned(provider: HookProvider, props: dict[str, Any]) -> list[str]:
    """The warnings a successful run keeps in state."""
    return list(provider.create(props).outs["warnings"])


def shell(script: str, **kwargs: Any) -> dict[str, Any]:
    return step_props("run", {"script": script}, **kwargs)


@pytest.mark.parametrize(
    ("provider", "props", "verb", "expected"),
    [
        pytest.param(
            ShellStepProvider(),
            shell("echo broken >&2; exit 1"),
            "create",
            "hook codex/afterApply/step failed: script exited with 1: broken",
            id="a-failed-step-names-component-stage-and-step",
        ),
        pytest.param(
            ShellStepProvider(),
            shell("echo broken >&2; exit 1", stage="beforeAll", step="prepare"),
            "update",
            "hook stack/beforeAll/prepare failed: script exited with 1: broken",
            id="a-stack-step-is-named-stack",
        ),
        pytest.param(
            ShellStepProvider(),
            shell("echo gone >&2; exit 4", stage="beforeDestroy", step="dump"),
            "delete",
            "hook codex/beforeDestroy/dump failed: script exited with 4: gone",
            id="a-destroy-stage-fails-on-delete",
        ),
        pytest.param(
            HookProvider(),
            step_props("sleep", {"seconds": 0}),
            "create",
            "hook codex/afterApply/step failed: this step has no work",
            id="a-provider-without-work",
        ),
        pytest.param(
            SleepProvider(),
            step_props("sleep", {"seconds": "soon"}),
            "create",
            "hook codex/afterApply/step failed: ValueError: could not convert string to float: 'soon'",
            id="an-unexpected-exception-is-named-by-its-type",
        ),
        pytest.param(
            SleepProvider(),
            step_props("sleep", {"seconds": 0.2}, timeout=0.1),
            "create",
            "hook codex/afterApply/step failed: sleep 0.2s: timed out after 0.1s (the step's timeout)",
            id="the-steps-timeout",
        ),
    ],
)
def test_a_failed_step_says(provider: HookProvider, props: dict[str, Any], verb: str, expected: str) -> None:
    assert failure(provider, props, verb=verb) == expected


def test_continue_on_error_turns_the_failure_into_a_warning_in_state_and_log(
    capfd: pytest.CaptureFixture[str],
) -> None:
    created = ShellStepProvider().create(shell("echo flaky >&2; exit 2", continue_on_error=True))
    assert created.outs["result"] == {"failed": "script exited with 2: flaky"}
    assert created.outs["warnings"] == ["failed, continuing (continueOnError): script exited with 2: flaky"]
    assert capfd.readouterr().err == (
        "warning: hook codex/afterApply/step: failed, continuing (continueOnError): script exited with 2: flaky\n"
    )


def test_a_destroy_stage_warning_names_the_step(capfd: pytest.CaptureFixture[str]) -> None:
    props = shell("echo nope; exit 5", stage="afterDestroy", step="farewell", continue_on_error=True)
    ShellStepProvider().delete("id", props)
    assert capfd.readouterr().err == (
        "warning: hook codex/afterDestroy/farewell: failed, continuing (continueOnError): script exited with 5: nope\n"
    )
