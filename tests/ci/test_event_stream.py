"""The engine events a ``pulumi up`` streams to the Automation API end cleanly on every way out of
the command: the SDK's event server (pulumi/automation/_stack.py, ``StreamEvents``) warns "Error in
event stream" when the CLI's stream breaks instead of ending, as it did when the double left
through a refused lock without closing it."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from codex_stacks.ci.settings import read_settings
from codex_stacks.ci.up import UpPolicy, UpRunner
from codex_stacks.ci.workspace import open_workspace
from tests.ci.conftest import PulumiDouble


def test_a_refused_lock_ends_the_event_stream_without_an_error(pulumi_double: PulumiDouble) -> None:
    pulumi_double.make_stack("ai-slot-3")
    pulumi_double.plant_lock("ai-slot-3", pid=os.getpid())
    program = Path(os.environ["CODEX_PROGRAM_DIR"])
    workspace, command = open_workspace(program_dir=program)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outcome = UpRunner(
            workspace=workspace,
            command=command,
            stack="ai-slot-3",
            settings=read_settings("ai-slot-3", program_dir=program, project_dir=None),
            policy=UpPolicy(retries=1, backoff=0.0),
            repair_targets=list,
            sleep=lambda _seconds: None,
        ).run(mode="normal", fallback_repair=False)
    assert [attempt.outcome for attempt in outcome.attempts] == ["locked", "locked"]
    assert [str(w.message) for w in caught if "event stream" in str(w.message)] == []
