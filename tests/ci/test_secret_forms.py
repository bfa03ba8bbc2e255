"""deliver's secret search finds a value however a file may carry it: plain, base64 (standard or
URL-safe) wherever the value sits in the encoded text, and hex. The oracle is the standard
library's encoders applied to whole files with the value embedded at every offset."""

from __future__ import annotations

import base64
import binascii

import pytest

from codex_stacks.ci.deliver import secret_forms

SECRET = "sk-canary-0b5e7f29d4c1a8"


def found(content: bytes, value: str = SECRET) -> bool:
    return any(form in content for form in secret_forms(value))


@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode])
@pytest.mark.parametrize("before", range(7))
@pytest.mark.parametrize("after", range(4))
def test_base64_of_a_file_holding_the_value_anywhere(encode: object, before: int, after: int) -> None:
    assert callable(encode)
    text = b"k" * before + f"token={SECRET}".encode() + b"\n" * after
    assert found(encode(text))
    assert found(encode(text).replace(b"=", b""))  # unpadded


def test_plain_and_hex() -> None:
    assert found(f"OPENAI_API_KEY={SECRET}\n".encode())
    assert found(binascii.hexlify(f"x{SECRET}y".encode()))
    assert found(binascii.hexlify(SECRET.encode()).upper())


def test_other_text_is_not_a_match() -> None:
    other = "sk-canary-0b5e7X29d4c1a8"  # one character in the middle differs
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for before in range(3):
            assert not found(encode(b"k" * before + other.encode()))
    assert not found(other.encode())
    assert not found(binascii.hexlify(other.encode()))


def test_every_form_is_long_enough_to_mean_something() -> None:
    for value in ("12345678", SECRET, "x" * 200):
        assert all(len(form) >= 8 for form in secret_forms(value))
