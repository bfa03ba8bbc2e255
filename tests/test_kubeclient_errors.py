"""What a refused Kubernetes API call shows: the status and the API's message, nothing else."""

from __future__ import annotations

from kubernetes.client.exceptions import ApiException

from codex_stacks.kubeclient import api_status


def test_a_refused_exec_upgrade_shows_the_apis_message_not_the_response_headers() -> None:
    # websocket-client's WebSocketBadStatusException text, as kubernetes/stream/ws_client.py wraps it
    body = b'{"kind":"Status","message":"pods \\"codex-0\\" is forbidden: cannot create pods/exec","code":403}'
    headers = {"audit-id": "1f2e", "set-cookie": "session=very-private", "x-remote-user": "runner"}
    error = ApiException(status=0, reason=f"Handshake status 403 Forbidden -+-+- {headers} -+-+- {body!r}")
    shown = api_status(error)
    assert shown == 'HTTP 403: pods "codex-0" is forbidden: cannot create pods/exec'


def test_a_refused_upgrade_without_a_status_body_shows_the_status_line() -> None:
    error = ApiException(status=0, reason="Handshake status 502 Bad Gateway -+-+- {'server': 'x'} -+-+- b'<html>'")
    assert api_status(error) == "HTTP 502: Bad Gateway"


def test_an_ordinary_answer_shows_its_message() -> None:
    error = ApiException(status=404, reason="Not Found")
    error.body = '{"kind":"Status","message":"namespaces \\"x\\" not found"}'
    assert api_status(error) == 'HTTP 404: namespaces "x" not found'
