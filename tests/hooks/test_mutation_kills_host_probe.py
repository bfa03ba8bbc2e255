"""``codex.check-dev-host-ports`` against a real HTTP server on 127.0.0.1: behaviours that the
mutation run (tools/mutation.py hooks, a sample of 2026-11-30) found unguarded."""

from __future__ import annotations

from codex_stacks.components.hooks.providers.host_ports import CheckDevHostPortsProvider
from tests.hooks.helpers import step_props
from tests.hooks.test_mutation_kills_local import ingress

__all__ = ["ingress"]  # the fixture, used by name


def test_the_host_probe_asks_for_the_path_it_is_given(ingress: tuple[int, list[str]]) -> None:
    """docs/services-yaml-reference.md: ``path`` is the path of the HTTP probe."""
    port, seen = ingress
    params = {
        "host": "127.0.0.1",
        "ports": [],
        "http_host": "dev-3.alimentor.example",
        "http_port": port,
        "path": "/healthz",
    }
    created = CheckDevHostPortsProvider().create(step_props("codex.check-dev-host-ports", params))
    assert created.outs["result"]["http_status"] == 200
    assert seen == ["/healthz"]
