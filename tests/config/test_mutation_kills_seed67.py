"""What a fresh mutation sample of config (seed 67, after the template budget's tables) found
unread: a manifest that writes the text of a placeholder itself, and infinities in codex's
config.toml."""

from __future__ import annotations

import math
import tomllib

from codex_stacks.config.tomlblocks import dumps
from codex_stacks.plan import PlanRequest, build_plan
from tests.config.error_messages import ONE_MANIFEST, project


def test_a_manifest_cannot_forge_the_placeholder_of_an_outside_value() -> None:
    """Outside values leave a render as placeholders with a random part: text a template writes
    that looks like the first placeholder (``zcodexoutside0x``) stays that text."""
    manifest = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n"
        'data:\n  forged: "zcodexoutside0x"\n  tag: {{ vars.tag }}\n'
    )
    folder = project(ONE_MANIFEST, {"cm.yaml": manifest})
    plan = build_plan(PlanRequest(stack="dev", project_dir=folder, vars={"tag": "v1; planted"}))
    [config_map] = [obj for obj in plan.objects if obj.kind == "ConfigMap" and obj.name == "cm"]
    assert config_map.manifest["data"] == {"forged": "zcodexoutside0x", "tag": "v1; planted"}


def test_infinities_and_nan_are_written_as_toml_reads_them() -> None:
    text = dumps({"high": math.inf, "low": -math.inf, "none": math.nan})
    assert text == "high = inf\nlow = -inf\nnone = nan\n"
    read = tomllib.loads(text)
    assert (read["high"], read["low"], math.isnan(read["none"])) == (math.inf, -math.inf, True)
