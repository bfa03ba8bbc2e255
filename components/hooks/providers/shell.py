"""``run:`` steps: a bash script with a timeout; outside text arrives as environment variables."""

from __future__ import annotations

from typing import Any

from codex_stacks.components.hooks.providers.base import HookError, HookProvider, StepRun

TAIL = 2000


class ShellStepProvider(HookProvider):
    """``bash -c <script>`` in its own process group, killed as a whole on timeout."""

    def work(self, run: StepRun) -> dict[str, Any]:
        """The script text is fixed at load; values such as issue titles come only via ``env``."""
        import os
        import signal
        import subprocess
        import sys

        env = {**os.environ, **{str(k): str(v) for k, v in (run.params.get("env") or {}).items()}}
        # the step's own env: a secret input (credentials, outside text), never part of the script
        env.update({key[4:]: str(value) for key, value in run.secrets.items() if key.startswith("env:")})
        process = subprocess.Popen(
            ["bash", "-c", str(run.params["script"])],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=max(0.01, run.remaining()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise HookError(f"script timed out after {run.timeout:g}s and was killed") from None
        out = stdout.decode("utf-8", errors="replace")
        err = stderr.decode("utf-8", errors="replace")
        if process.returncode != 0:
            raise HookError(f"script exited with {process.returncode}: {err[-TAIL:].strip() or out[-TAIL:].strip()}")
        if out.strip():
            print(out[-TAIL:], file=sys.stderr, flush=True)  # the engine log, not the state
        return {"exit_code": 0}
