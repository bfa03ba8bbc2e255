"""Errors of the CI steps: something the operator or the environment can fix, never a bug.

Exit codes follow one convention: 2 when the input or the configuration is wrong (fix the call
or the files), 1 when an outside system failed (docker, a registry, the cluster, the GitHub API,
the Pulumi CLI or backend): the same call may work when that system is back.
"""

from __future__ import annotations

from codex_stacks.errors import CodexError

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1


class CiError(CodexError):
    """A CI step cannot do what it was asked (no free slot, bad duration, …): exit 2."""

    exit_code = EXIT_BAD_INPUT


class ExternalError(CiError):
    """An outside system failed (docker, a build, a destroy, the GitHub API, the cluster): exit 1."""

    exit_code = EXIT_FAILED


def pulumi_error_line(error: Exception) -> str:
    """The telling line of a failed Pulumi CLI call: its last ``error:`` message, without the prefix."""
    lines = [line.strip() for line in str(error).splitlines() if "error:" in line]
    if not lines:
        rest = [
            line.strip() for line in str(error).splitlines() if line.strip() and not line.strip().startswith("code:")
        ]
        return (rest[-1] if rest else str(error))[:300]
    return lines[-1].split("error:", 1)[1].strip()[:300]


_BACKEND_HINT = (
    "set PULUMI_BACKEND_URL to your state backend (e.g. s3://bucket/codex, file://~/.pulumi-state) "
    "and PULUMI_CONFIG_PASSPHRASE; PULUMI_ACCESS_TOKEN is only for Pulumi Cloud"
)


def pulumi_hint(error: Exception, *, environ: dict[str, str] | None = None) -> str | None:
    """A hint for Pulumi CLI failures with a known setup cause (README: codex stacks needs PULUMI_BACKEND_URL)."""
    import os

    env = os.environ if environ is None else environ
    if "PULUMI_ACCESS_TOKEN" in str(error) and not env.get("PULUMI_BACKEND_URL"):
        return _BACKEND_HINT
    return None
