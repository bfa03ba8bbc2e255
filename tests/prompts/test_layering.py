"""The prompts package is pure Python: no Pulumi, and the Kubernetes client only when a run needs it."""

from __future__ import annotations

import subprocess
import sys


def test_importing_prompts_and_their_cli_loads_neither_pulumi_nor_the_kubernetes_client() -> None:
    code = (
        "import sys, codex_stacks.prompts.runner, codex_stacks.cli.prompt; "
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'pulumi', 'pulumi_kubernetes', 'kubernetes'}); "
        "print(','.join(loaded))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == ""
