"""A Kubernetes API client of its own (no global config) for the commands that talk to a cluster,
and one-line words for what went wrong: the kubeconfig, the connection, or the API's answer."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import ssl
from pathlib import Path
from typing import TYPE_CHECKING

from codex_stacks.errors import CodexError, Location

if TYPE_CHECKING:
    from kubernetes.client import ApiClient


class ClusterError(CodexError):
    """The cluster answered with an error or could not be reached: an outside failure (exit 1)."""

    exit_code = 1


def kubeconfig_paths() -> list[Path]:
    """Where the kubeconfig is looked for: KUBECONFIG's paths, else ~/.kube/config."""
    listed = [part for part in os.environ.get("KUBECONFIG", "").split(os.pathsep) if part]
    return [Path(part).expanduser() for part in listed] or [Path("~/.kube/config").expanduser()]


def check_kubeconfig(path: Path) -> None:
    """A broken file named with its line, before the client turns it into a traceback."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CodexError(f"cannot read the kubeconfig: {exc.strerror}", location=Location(file=path)) from None
    except UnicodeDecodeError:
        raise CodexError("the kubeconfig is not UTF-8 text", location=Location(file=path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CodexError(
            f"the kubeconfig is not valid YAML: {problem}",
            location=Location(file=path, line=mark.line + 1 if mark is not None else None),
            hint="fix the file, or point KUBECONFIG at another one",
        ) from None
    if not isinstance(data, dict):
        raise CodexError(
            "the kubeconfig is not a kubeconfig (expected a mapping with clusters, users and contexts)",
            location=Location(file=path),
            hint="point KUBECONFIG at the cluster's kubeconfig file",
        )


def api_client(*, context: str | None) -> ApiClient:
    """A client of its own (no global config), from KUBECONFIG, ~/.kube/config or the pod's account."""
    from kubernetes import client, config

    paths = kubeconfig_paths()
    found = [path for path in paths if path.is_file()]
    configuration = client.Configuration()
    if not found:
        if context is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            return client.ApiClient(configuration)
        tried = ", ".join(str(path) for path in paths)
        raise CodexError(
            f"no kubeconfig found (looked for {tried})",
            hint="set KUBECONFIG to the cluster's kubeconfig file, or run codexctl inside the cluster",
        )
    for path in found:
        check_kubeconfig(path)
    where = found[0] if len(found) == 1 else None
    named = os.pathsep.join(str(path) for path in found)
    try:
        config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=named, context=context, client_configuration=configuration, persist_config=False
        )
    except config.ConfigException as exc:
        detail = str(exc).replace("\n", " ")
        raise CodexError(
            f"the kubeconfig cannot be used: {detail}" + ("" if where else f" (files: {named})"),
            location=Location(file=where) if where else None,
            hint="pass --kube-context or set environments.<env>.kubeContext" if "context" in detail.lower() else None,
        ) from None
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise CodexError(
            f"the kubeconfig is malformed: {type(exc).__name__}: {exc}" + ("" if where else f" (files: {named})"),
            location=Location(file=where) if where else None,
            hint="compare it with `kubectl config view`",
        ) from None
    return client.ApiClient(configuration)


def network_reason(exc: BaseException) -> str | None:
    """Why a request never got an answer, in a few words; None for anything else."""
    from urllib3.exceptions import HTTPError as Urllib3Error

    if not isinstance(exc, Urllib3Error | OSError):
        return None
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, socket.gaierror):
            return "unknown host name"
        if isinstance(current, ssl.SSLError):
            return f"TLS failed: {current.reason or current}"
        if isinstance(current, TimeoutError | socket.timeout):
            return "timed out"
        reason = getattr(current, "reason", None)
        current = reason if isinstance(reason, BaseException) else (current.__cause__ or current.__context__)
    text = str(getattr(exc, "reason", None) or exc)
    return text.rsplit(": ", 1)[-1] if ": " in text else text


def api_status(exc: BaseException) -> str | None:
    """``HTTP 403: <the API's message>`` for an answer of the API server; None for anything else."""
    from kubernetes.client.exceptions import ApiException

    if not isinstance(exc, ApiException):
        return None
    detail = exc.reason or ""
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        detail = json.loads(exc.body or "{}").get("message") or detail
    status = f"HTTP {exc.status}" if exc.status else "connection failed"
    return f"{status}: {detail}".rstrip(": ")
