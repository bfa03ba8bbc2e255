"""The bounds of one request (:func:`httpcall.send`, the transport of the GitHub and Kubernetes
hooks) against real servers on 127.0.0.1: behaviours that the mutation run (tools/mutation.py
hooks, a sample of 2026-11-30) found unguarded."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from codex_stacks.components.hooks.providers.httpcall import RequestTimeoutError, TransportError, send


def answering_server(answer: bytes, *, pause: float = 0.0, piece: int = 0) -> Iterator[str]:
    """A server that answers each connection with ``answer``: at once, or ``piece`` bytes at a time
    with ``pause`` seconds between the pieces (after the headers)."""
    listener = socket.create_server(("127.0.0.1", 0))
    stopping = threading.Event()

    def answer_one(conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            head, _, body = answer.partition(b"\r\n\r\n")
            conn.sendall(head + b"\r\n\r\n")
            step = piece or len(body) or 1
            for start in range(0, len(body), step):
                if pause and stopping.wait(pause):
                    break
                conn.sendall(body[start : start + step])
        except OSError:
            pass
        finally:
            conn.close()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stopping.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=answer_one, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        stopping.set()
        listener.close()


@pytest.fixture
def slow_short_answer() -> Iterator[str]:
    """A complete answer of 4 bytes that takes 0.8 s: one byte every 0.2 s."""
    yield from answering_server(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4\r\n\r\n[  ]", pause=0.2, piece=1
    )


@pytest.fixture
def big_answer() -> Iterator[str]:
    """300,000 bytes of JSON, sent at once (the client reads them in pieces of 64 KiB)."""
    body = b"[" + b" " * 299_998 + b"]"
    yield from answering_server(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 300000\r\n\r\n" + body
    )


def test_a_bound_under_a_second_holds_for_an_answer_that_takes_longer(slow_short_answer: str) -> None:
    """Near the end of a step a request gets less than a second (the step's time left): an answer
    that needs 0.8 s is cut at 0.5 s, it does not get the full second."""
    with pytest.raises(RequestTimeoutError) as failure:
        send("GET", slow_short_answer, headers={}, timeout=0.5)
    assert str(failure.value) == "no complete answer within 0.5s"


def test_an_answer_larger_than_the_bound_is_refused_though_it_comes_in_pieces(big_answer: str) -> None:
    """The bound counts the whole answer, not each piece read (every piece is under 100,000 bytes)."""
    with pytest.raises(TransportError) as failure:
        send("GET", big_answer, headers={}, timeout=5.0, max_body=100_000)
    assert str(failure.value) == "the answer is larger than 100000 bytes"
    assert len(send("GET", big_answer, headers={}, timeout=5.0, max_body=300_000).body) == 300_000
