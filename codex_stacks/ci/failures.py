"""What kind of failure a Pulumi CLI run had: the retry policy of ``ci up`` and ``ci cleanup``.

Only transient classes are worth another attempt — a lock held by another update, the network,
an API server answering 5xx or 429, an update cut short. Everything else is deterministic: a
resource the engine reported as failed (its per-resource error events), the program's own error,
a bad ``--target``; running it again gives the same answer, so ``ci up`` goes to the repair
fallback at once instead.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Literal

from pulumi.automation.errors import CommandError, CompilationError, ConcurrentUpdateError, RuntimeError
from pulumi.automation.events import EngineEvent

from codex_stacks.ci.errors import pulumi_error_line

Kind = Literal["locked", "transient", "interrupted", "resource", "program", "failed"]
TRANSIENT: frozenset[Kind] = frozenset({"locked", "transient", "interrupted"})
STACK_TYPE = "pulumi:pulumi:Stack"

_LOCKED = (
    "the stack is currently locked by",  # diy: pkg/backend/diy/lock.go checkForLock
    "Another update is currently in progress",  # cloud: HTTP 409 from StartUpdate
)
_NETWORK = re.compile(
    r"connection refused|connection reset|i/o timeout|no such host|TLS handshake timeout|"
    r"context deadline exceeded|dial tcp|broken pipe|network is unreachable|unexpected EOF|"
    r"\b(?:429|500|502|503|504)\b|Too Many Requests|Service Unavailable|Bad Gateway|Gateway Time-?out|"
    r"InternalError|server is currently unable to handle the request|etcdserver: request timed out|"
    r"the server was unable to return a response|rate limit|RequestTimeout|SlowDown",
    re.IGNORECASE,
)
_INTERRUPTED = re.compile(r"\b(?:update|destroy|refresh) canceled\b|received; (?:cancelling|terminating)")


def is_network(text: str) -> bool:
    return _NETWORK.search(text) is not None


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed resource or program error as the engine reported it."""

    urn: str
    message: str


class EngineFailures:
    """Collects the engine's failure events of one run: resource-level ones (resOpFailedEvent and
    error diagnostics on a resource) and the program's (errors on the root Stack or on no URN)."""

    def __init__(self) -> None:
        self.resources: dict[str, str] = {}
        self.program: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, event: EngineEvent) -> None:
        with self._lock:
            if event.res_op_failed_event is not None:
                urn = event.res_op_failed_event.metadata.urn
                self.resources.setdefault(urn, "")
            diagnostic = event.diagnostic_event
            if diagnostic is None or diagnostic.severity != "error":
                return
            message = diagnostic.message.strip()
            urn = diagnostic.urn or ""
            if not urn or urn.split("::")[2].split("$")[-1] == STACK_TYPE:
                self.program.append(message)
            elif not self.resources.get(urn):
                self.resources[urn] = message

    def failures(self) -> list[Failure]:
        with self._lock:
            return [Failure(urn=urn, message=message) for urn, message in sorted(self.resources.items())]


def classify(error: CommandError, events: EngineFailures | None = None) -> Kind:
    """The failure's class, from the CLI's error and the run's events."""
    text = str(error)
    if isinstance(error, ConcurrentUpdateError) or any(marker in text for marker in _LOCKED):
        return "locked"
    if events is not None:
        failures = events.failures()
        if failures:
            if all(f.message and is_network(f.message) for f in failures):
                return "transient"
            return "resource"
        if events.program:
            if any(_INTERRUPTED.search(message) for message in events.program):
                return "interrupted"
            return "program"
    if isinstance(error, RuntimeError | CompilationError):
        return "program"
    if _INTERRUPTED.search(text):
        return "interrupted"
    if is_network(pulumi_error_line(error)):
        return "transient"
    return "failed"
