"""Names of what the one cluster-scoped stack owns for every project on the cluster."""

from __future__ import annotations

SYSTEM_NAMESPACE = "codex-system"
"""Slot claims (``coordination.k8s.io`` Leases) and the admission policy's parameters live here:
outside every slot namespace, so no agent can read or change them."""
