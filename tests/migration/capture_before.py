"""How tests/migration/before/ was made: every stack of both examples as the old (two-pass Jinja) dialect registered them, one JSON file each. Kept for the record; the old code is gone.
import json, os, sys
from pathlib import Path
ROOT = Path("/work/main")
sys.path.insert(0, str(ROOT))
for key in list(os.environ):
    if key.startswith(("CODE_ROOT", "BASE_DOMAIN", "REGISTRY", "DATA_ROOT", "ALIMENTOR", "ISSUE", "PR_")):
        del os.environ[key]
from codex_stacks.offline.runner import run_program, Secret
from codex_stacks.stackconfig import stack_request, program_config, with_overrides

def plain(value):
    if isinstance(value, Secret):
        return {"__secret__": plain(value.value)}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return value.replace(str(ROOT), "<ROOT>")
    return value

cases = {
    "project-example": [("dev", None), ("ai-staging", None), ("ai-repair", "repair"), ("ai-slot-3", None), ("ai-slot-3", "repair")],
    "alimentor": [("ai-staging", None), ("ai-slot-2", None), ("ai-slot-2", "repair")],
}
out = ROOT / "tests" / "migration" / "before"
for example, stacks in cases.items():
    for stack, mode in stacks:
        config = with_overrides(program_config(stack), project_dir=ROOT / "examples" / example, mode=mode)
        run = run_program(stack, config)
        regs = sorted(
            ({"type": r.type, "name": r.name, "urn": r.urn, "parent": r.parent, "inputs": plain(r.inputs),
              "dependencies": sorted(r.dependencies), "retainOnDelete": r.retain_on_delete} for r in run.registrations),
            key=lambda r: r["urn"])
        data = {"stack": stack, "mode": mode or "normal", "registrations": regs, "outputs": plain(run.outputs)}
        name = f"{example}--{stack}--{mode or 'normal'}.json"
        (out / name).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        print(name, len(regs))
