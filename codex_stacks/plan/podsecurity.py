"""The strictest Pod Security Standard a project's own pods pass, and the namespace labels that
make Kubernetes' Pod Security Admission enforce it.

The checks follow the Pod Security Standards as Kubernetes documents them
(https://kubernetes.io/docs/concepts/security/pod-security-standards/, "Baseline" and
"Restricted" tables, including the controls added up to v1.34) and as its admission controller
implements them (``k8s.io/pod-security-admission/policy/check_*.go``). Where a check depends on
the cluster's version, the newest definition is used: it is the stricter one, so the level
computed here is never looser than what the cluster enforces.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from codex_stacks.plan.pods import containers, pod_metadata, pod_spec

Level = Literal["privileged", "baseline", "restricted"]
LEVELS: tuple[Level, ...] = ("restricted", "baseline", "privileged")
"""Strictest first."""

LABEL_PREFIX = "pod-security.kubernetes.io/"
AUDIT_AND_WARN: Level = "baseline"
"""``warn`` and ``audit`` stay at baseline whatever is enforced: everyone deploying into the
namespace sees what a baseline namespace would refuse."""

BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
PROFILE_TYPES = frozenset({"RuntimeDefault", "Localhost"})
RESTRICTED_VOLUME_SOURCES = frozenset(
    {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}
)
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


@dataclass(frozen=True, slots=True)
class Finding:
    """Why a pod does not pass a level."""

    level: Level
    control: str
    detail: str


def _context(item: Mapping[str, Any]) -> Mapping[str, Any]:
    context = item.get("securityContext")
    return context if isinstance(context, Mapping) else {}


def _get(node: Mapping[str, Any], *path: str) -> Any:
    value: Any = node
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _named(item: Mapping[str, Any]) -> str:
    return f"container {item.get('name', '?')!r}"


def _baseline(metadata: Mapping[str, Any], spec: Mapping[str, Any]) -> list[Finding]:
    found: list[Finding] = []

    def fail(control: str, detail: str) -> None:
        found.append(Finding("baseline", control, detail))

    pod = _context(spec)
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field) is True:
            fail("Host Namespaces", f"pod sets {field}: true")
    if _get(pod, "windowsOptions", "hostProcess") is True:
        fail("HostProcess", "pod sets windowsOptions.hostProcess: true")
    for volume in spec.get("volumes") or []:
        if isinstance(volume, Mapping) and volume.get("hostPath") is not None:
            fail("HostPath Volumes", f"volume {volume.get('name', '?')!r} is a hostPath")
    for sysctl in pod.get("sysctls") or []:
        if isinstance(sysctl, Mapping) and sysctl.get("name") not in SAFE_SYSCTLS:
            fail("Sysctls", f"pod sets sysctl {sysctl.get('name')!r}, not a safe one")
    found.extend(_profiles("pod", pod))
    for key, value in (metadata.get("annotations") or {}).items():
        if str(key).startswith(APPARMOR_ANNOTATION) and not (
            value == "runtime/default" or str(value).startswith("localhost/")
        ):
            fail("AppArmor", f"pod annotation {key}: {value}")
    for item in containers(spec):
        context = _context(item)
        name = _named(item)
        if context.get("privileged") is True:
            fail("Privileged Containers", f"{name} is privileged")
        if _get(context, "windowsOptions", "hostProcess") is True:
            fail("HostProcess", f"{name} sets windowsOptions.hostProcess: true")
        added = set(_get(context, "capabilities", "add") or []) - BASELINE_CAPABILITIES
        if added:
            fail("Capabilities", f"{name} adds {', '.join(sorted(map(str, added)))}")
        if context.get("procMount") not in (None, "Default"):
            fail("/proc Mount Type", f"{name} sets procMount {context.get('procMount')}")
        for port in item.get("ports") or []:
            if isinstance(port, Mapping) and port.get("hostPort") not in (None, 0):
                fail("Host Ports", f"{name} uses hostPort {port.get('hostPort')}")
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            for handler in ("httpGet", "tcpSocket"):
                if _get(item, probe, handler, "host"):
                    fail("Host Probes / Lifecycle Hooks", f"{name} sets {probe}.{handler}.host")
        for hook in ("postStart", "preStop"):
            for handler in ("httpGet", "tcpSocket"):
                if _get(item, "lifecycle", hook, handler, "host"):
                    fail("Host Probes / Lifecycle Hooks", f"{name} sets lifecycle.{hook}.{handler}.host")
        found.extend(_profiles(name, context))
    return found


def _profiles(who: str, context: Mapping[str, Any]) -> list[Finding]:
    """AppArmor, SELinux and seccomp of one security context (the pod's or a container's)."""
    found = []
    apparmor = _get(context, "appArmorProfile", "type")
    if apparmor is not None and apparmor not in PROFILE_TYPES:
        found.append(Finding("baseline", "AppArmor", f"{who} sets appArmorProfile.type {apparmor}"))
    selinux = context.get("seLinuxOptions")
    if isinstance(selinux, Mapping):
        if (selinux.get("type") or "") not in SELINUX_TYPES:
            found.append(Finding("baseline", "SELinux", f"{who} sets seLinuxOptions.type {selinux.get('type')}"))
        if selinux.get("user") or selinux.get("role"):
            found.append(Finding("baseline", "SELinux", f"{who} sets seLinuxOptions user or role"))
    if _get(context, "seccompProfile", "type") == "Unconfined":
        found.append(Finding("baseline", "Seccomp", f"{who} sets seccompProfile.type Unconfined"))
    return found


def _restricted(spec: Mapping[str, Any]) -> list[Finding]:
    found: list[Finding] = []

    def fail(control: str, detail: str) -> None:
        found.append(Finding("restricted", control, detail))

    for volume in spec.get("volumes") or []:
        if isinstance(volume, Mapping) and not any(volume.get(key) is not None for key in RESTRICTED_VOLUME_SOURCES):
            fail("Volume Types", f"volume {volume.get('name', '?')!r} is of a type restricted does not allow")
    pod = _context(spec)
    linux = _get(spec, "os", "name") != "windows"  # three controls are Linux-only since v1.25
    if pod.get("runAsNonRoot") is False:
        fail("Running as Non-root", "pod sets runAsNonRoot: false")
    if pod.get("runAsUser") == 0:
        fail("Running as Non-root user", "pod sets runAsUser: 0")
    pod_seccomp = _get(pod, "seccompProfile", "type") in PROFILE_TYPES
    for item in containers(spec):
        context = _context(item)
        name = _named(item)
        if context.get("runAsNonRoot") is False or (
            context.get("runAsNonRoot") is None and pod.get("runAsNonRoot") is not True
        ):
            fail("Running as Non-root", f"{name} may run as root (runAsNonRoot is not true)")
        if context.get("runAsUser") == 0:
            fail("Running as Non-root user", f"{name} sets runAsUser: 0")
        if not linux:
            continue
        if context.get("allowPrivilegeEscalation") is not False:
            fail("Privilege Escalation", f"{name} does not set allowPrivilegeEscalation: false")
        seccomp = _get(context, "seccompProfile", "type")
        if (seccomp is None and not pod_seccomp) or (seccomp is not None and seccomp not in PROFILE_TYPES):
            fail("Seccomp", f"{name} has no RuntimeDefault or Localhost seccomp profile")
        if "ALL" not in (_get(context, "capabilities", "drop") or []):
            fail("Capabilities", f"{name} does not drop ALL capabilities")
        if set(_get(context, "capabilities", "add") or []) - {"NET_BIND_SERVICE"}:
            fail("Capabilities", f"{name} adds capabilities other than NET_BIND_SERVICE")
    return found


def findings(manifest: Mapping[str, Any]) -> list[Finding]:
    """What keeps the pods of a Pod or workload from the baseline and restricted levels."""
    spec = pod_spec(manifest)
    if spec is None:
        return []
    return [*_baseline(pod_metadata(manifest), spec), *_restricted(spec)]


def level_of(manifest: Mapping[str, Any]) -> Level:
    """The strictest level the object's pods pass (restricted for objects that run no pods)."""
    levels = {finding.level for finding in findings(manifest)}
    if "baseline" in levels:
        return "privileged"
    if "restricted" in levels:
        return "baseline"
    return "restricted"


def strictest_level(manifests: Iterable[Mapping[str, Any]]) -> Level:
    """The strictest level that every one of these objects' pods passes."""
    worst = 0
    for manifest in manifests:
        worst = max(worst, LEVELS.index(level_of(manifest)))
    return LEVELS[worst]


@dataclass(frozen=True, slots=True)
class PodSecurity:
    """The level a namespace enforces and why it is not the next stricter one."""

    enforce: Level
    because: tuple[str, ...] = ()
    """One line per pod setting the next stricter level refuses (``Kind/name: detail (control)``),
    or why the level could not be computed; empty for ``restricted``."""


def pod_security(manifests: Iterable[Mapping[str, Any]]) -> PodSecurity:
    """The strictest level every one of these objects' pods passes, with the findings of the next
    stricter level: what to change for the namespace to enforce more."""
    listed = list(manifests)
    enforce = strictest_level(listed)
    if enforce == "restricted":
        return PodSecurity(enforce)
    stricter = LEVELS[LEVELS.index(enforce) - 1]
    because = []
    for manifest in listed:
        metadata = manifest.get("metadata")
        name = metadata.get("name") if isinstance(metadata, Mapping) else None
        for finding in findings(manifest):
            if finding.level == stricter:
                because.append(f"{manifest.get('kind')}/{name}: {finding.detail} ({finding.control})")
    return PodSecurity(enforce, tuple(because))


def namespace_labels(enforce: Level) -> dict[str, str]:
    """Pod Security Admission labels: ``enforce`` at the computed level, ``warn``/``audit`` at baseline."""
    return {
        f"{LABEL_PREFIX}enforce": enforce,
        f"{LABEL_PREFIX}warn": AUDIT_AND_WARN,
        f"{LABEL_PREFIX}audit": AUDIT_AND_WARN,
    }
