"""Errors of the CI steps: something the operator or the environment can fix, never a bug."""

from __future__ import annotations

from codexctl.errors import CodexError


class CiError(CodexError):
    """A CI step cannot do what it was asked (no free slot, no pulumi CLI, bad duration, …)."""


def pulumi_error_line(error: Exception) -> str:
    """The telling line of a failed Pulumi CLI call: its last ``error:`` message, without the prefix."""
    lines = [line.strip() for line in str(error).splitlines() if "error:" in line]
    if not lines:
        rest = [
            line.strip() for line in str(error).splitlines() if line.strip() and not line.strip().startswith("code:")
        ]
        return (rest[-1] if rest else str(error))[:300]
    return lines[-1].split("error:", 1)[1].strip()[:300]
