"""``ci ensure-slot`` when every slot is claimed: the error says how to free one
(codex_stacks/ci/slots.py)."""

from __future__ import annotations

from typer.testing import CliRunner

from codex_stacks.cli.app import app
from tests.ci.conftest import REPOSITORY, PulumiDouble
from tests.ci.test_ensure_slot import plant_claim
from tests.support.kube_double import KubeDouble

runner = CliRunner()


def test_no_free_slot_says_how_to_free_one(pulumi_double: PulumiDouble, kube_api: KubeDouble) -> None:
    plant_claim(kube_api, slot=1, holder=f"{REPOSITORY}#issue-1")
    plant_claim(kube_api, slot=2, holder=f"{REPOSITORY}#issue-2")

    result = runner.invoke(app, ["ci", "ensure-slot", "--issue", "7", "--max", "2"])

    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "no free slot for acme/shop#issue-7: all 2 slots of acme/shop are claimed" in text
    assert "hint: wait for a cleanup, run `codexctl ci gc --closed`, or raise maxSlots" in text
