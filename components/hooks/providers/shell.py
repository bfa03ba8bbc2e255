"""``run:`` steps: a bash script with a timeout; outside text arrives as environment variables.

The script gets a scrubbed environment: the variables its step declares (``env:``), the
``CODEX_*`` context of the stack and a few harmless ones (:data:`PASSED_THROUGH`), with ``HOME``
a fresh empty folder. Nothing else of the runner's environment reaches it: no Pulumi passphrase
or token, no cloud, Kubernetes or GitHub credentials, no ``ACTIONS_*`` tokens (see
docs/security-workflows.md, "Workflows and hooks").
"""

from __future__ import annotations

from typing import Any

from codex_stacks.components.hooks.providers.base import HookError, HookProvider, StepRun

TAIL = 2000
MIN_MASKED = 4
"""Shorter env values (``1``, ``yes``) are not masked: they would blank out ordinary words."""
PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "USER", "LOGNAME")
"""The runner's variables a script sees besides its own: where programs are, locale, time zone, user name."""


def script_env(run: StepRun, *, home: str) -> dict[str, str]:
    """The whole environment of a script: allowed runner variables, ``HOME``, the stack's
    ``CODEX_*`` context (``params.env``, set by the planner) and the step's own ``env``."""
    import os

    env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env["HOME"] = home
    env.update({str(key): str(value) for key, value in (run.params.get("env") or {}).items()})
    # the step's own env: a secret input (credentials, outside text), never part of the script
    env.update({key[4:]: str(value) for key, value in run.secrets.items() if key.startswith("env:")})
    return env


def masked(text: str, run: StepRun) -> str:
    """``text`` with every value of the step's own ``env`` (credentials among them) replaced by
    ``[secret]``: a script that prints one puts it in no error message and no log."""
    values = sorted(
        (str(value) for key, value in run.secrets.items() if key.startswith("env:") and len(str(value)) >= MIN_MASKED),
        key=len,
        reverse=True,
    )
    for value in values:
        text = text.replace(value, "[secret]")
    return text


class ShellStepProvider(HookProvider):
    """``bash -c <script>`` in its own process group, killed as a whole on timeout."""

    def work(self, run: StepRun) -> dict[str, Any]:
        """The script text is fixed at load; values such as issue titles come only via ``env``."""
        import os
        import signal
        import subprocess
        import sys
        import tempfile

        with tempfile.TemporaryDirectory(prefix="codex-hook-home-", ignore_cleanup_errors=True) as home:
            process = subprocess.Popen(
                ["bash", "-c", str(run.params["script"])],
                env=script_env(run, home=home),
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
        out = masked(stdout.decode("utf-8", errors="replace"), run)
        err = masked(stderr.decode("utf-8", errors="replace"), run)
        if process.returncode != 0:
            said = err[-TAIL:].strip() or out[-TAIL:].strip() or "(no output)"
            raise HookError(f"script exited with {process.returncode}: {said}")
        if out.strip():
            print(out[-TAIL:].rstrip("\n"), file=sys.stderr)  # the engine log, not the state
        return {"exit_code": 0}
