"""``codex.check-dev-host-ports``: do 80/443 accept connections, does the slot's host answer?"""

from __future__ import annotations

from typing import Any

from codex_stacks.components.hooks.providers.base import HookError, HookProvider, StepRun


class CheckDevHostPortsProvider(HookProvider):
    """Best effort: problems are warnings unless ``strict``; nothing is changed anywhere."""

    def work(self, run: StepRun) -> dict[str, Any]:
        """TCP connect to each port, then one HTTP GET with the slot's ``Host:`` header."""
        import socket

        from codex_stacks.components.hooks.providers.httpcall import TransportError, send

        host = str(run.params.get("host") or "127.0.0.1")
        timeout = max(0.05, min(float(run.params.get("probe_timeout") or 5), run.remaining() or 0.05))
        address = f"[{host}]" if ":" in host else host  # an IPv6 host in brackets: [::1]:443, as in a URL
        problems: list[str] = []
        ports: dict[str, bool] = {}
        for port in [int(value) for value in run.params.get("ports") or []]:  # numbers arrive as floats
            try:
                with socket.create_connection((host, port), timeout=timeout):
                    ports[str(port)] = True
            except OSError as error:
                ports[str(port)] = False
                problems.append(f"{address}:{port} does not accept connections ({error.strerror or error})")
        http_host = str(run.params.get("http_host") or "")
        status: int | None = None
        if http_host:
            http_port = int(run.params.get("http_port") or 80)
            path = str(run.params.get("path") or "/")
            try:  # bounded as a whole: a server that answers a byte at a time cannot hold the step
                reply = send(
                    "GET",
                    f"http://{address}:{http_port}{path}",
                    headers={"Host": http_host, "User-Agent": "codex-stacks"},
                    timeout=max(0.05, min(timeout, run.remaining())),
                    status_only=True,
                )
                status = reply.status
                if status >= 500:
                    problems.append(f"http://{http_host}{path} answered {status}")
            except TransportError as error:
                problems.append(f"no HTTP answer for Host {http_host} at {address}:{http_port} ({error})")
        if problems and run.params.get("strict"):
            raise HookError("; ".join(problems))
        for problem in problems:
            run.warn(problem)
        return {"ports": ports, "http_status": status, "problems": problems}
