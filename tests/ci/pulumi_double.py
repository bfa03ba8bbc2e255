"""A test double of the ``pulumi`` CLI: records every call, keeps stacks as folders, plays a script.

Not the real CLI: it only answers the subcommands the Automation API calls, in the shapes the
SDK parses. State lives in ``$PULUMI_DOUBLE_STATE``: ``stacks/<name>/`` (created with mkdir, so
creation is atomic across processes), ``calls.jsonl`` (argv + PULUMI_/CODEX_ env of each call),
``script.json`` (what the next ``up``/``destroy`` calls do: ok, locked, fail[:a,b], pending,
hang, hang-int, broken).
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sys
import time
from pathlib import Path

STATE = Path(os.environ["PULUMI_DOUBLE_STATE"])
STACKS = STATE / "stacks"
LOCKED = "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete"
PENDING = "error: the current deployment has 1 resource(s) with pending operations:"


def record(argv: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k.startswith(("PULUMI_", "CODEX_"))}
    line = json.dumps({"argv": argv, "env": env, "pid": os.getpid(), "time": time.time()})
    with (STATE / "calls.jsonl").open("a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write(line + "\n")


def next_step(kind: str) -> str:
    """Pop the next scripted behaviour for ``kind``; ``ok`` when the script is empty."""
    path = STATE / "script.json"
    with (STATE / "script.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        script = json.loads(path.read_text()) if path.exists() else {}
        queue = script.get(kind, [])
        step = queue.pop(0) if queue else "ok"
        script[kind] = queue
        path.write_text(json.dumps(script))
    return step


def flag(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args and args.index(name) + 1 < len(args) else None


def words(args: list[str]) -> list[str]:
    """Positional words (flags with values skipped)."""
    valued = {"--stack", "--event-log", "--exec-kind", "--target", "--color", "--page-size", "--page", "--client"}
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in valued:
            skip = True
        elif arg == "--":
            continue
        elif not arg.startswith("--"):
            out.append(arg)
    return out


def die(message: str, code: int = 255) -> None:
    sys.stderr.write(message + "\n")
    sys.exit(code)


def stack_dir(name: str) -> Path:
    path = STACKS / name
    if not path.is_dir():
        die(f"error: no stack named '{name}' found")
    return path


def load(path: Path, default: object) -> object:
    return json.loads(path.read_text()) if path.exists() else default


def save(path: Path, data: object) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


def send_events(target: str | None, events: list[dict[str, object]]) -> None:
    if not target:
        return
    if target.startswith("tcp://"):
        import site

        site.main()
        import grpc
        from pulumi.runtime.proto import events_pb2, events_pb2_grpc

        with grpc.insecure_channel(target[len("tcp://") :]) as channel:
            stub = events_pb2_grpc.EventsStub(channel)
            stub.StreamEvents(iter([events_pb2.EventRequest(event=json.dumps(e)) for e in events]))
    else:
        with open(target, "a", encoding="utf-8") as handle:
            for event in events:
                handle.write(json.dumps(event) + "\n")


def urn(stack: str, component: str) -> str:
    kind = "codex:stack:ServiceComponent$kubernetes:apps/v1:Deployment"
    return f"urn:pulumi:{stack}::codex::{kind}::{component}/deployment/{component}"


def run_update(args: list[str], stack: str) -> None:
    folder = stack_dir(stack)
    state = load(folder / "state.json", {"resources": 0, "pending": False, "updates": 0})
    assert isinstance(state, dict)
    step = next_step(args[0])
    if step == "locked":
        die(LOCKED)
    if args[0] == "up" and state["pending"]:
        die(PENDING + f"\n  * urn:pulumi:{stack}::codex::codex:stack:ServiceComponent::web, interrupted while creating")
    if step == "pending":
        state["pending"] = True
        save(folder / "state.json", state)
        die(PENDING)
    if step == "broken":
        sys.stdout.write("error: an unhandled error occurred: program failed\n")
        die("error: program failed")
    if step.startswith("fail"):
        components = step.partition(":")[2].split(",") if ":" in step else ["web-frontend"]
        send_events(
            flag(args, "--event-log"),
            [
                {
                    "sequence": i,
                    "timestamp": 0,
                    "diagnosticEvent": {
                        "urn": urn(stack, c),
                        "severity": "error",
                        "message": f"{c} failed to become ready\n",
                        "color": "never",
                    },
                }
                for i, c in enumerate(components)
            ],
        )
        die("error: update failed")
    if step in ("hang", "hang-int"):
        cancel = folder / "cancel"
        if step == "hang":
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            for _ in range(3000):
                if cancel.exists():
                    cancel.unlink()
                    die("error: update canceled")
                time.sleep(0.01)
        except KeyboardInterrupt:
            die("^C received; cancelling the update gracefully\nerror: update canceled")
        die("error: double hung for 30s without a cancel")
    targets = [args[i + 1] for i, a in enumerate(args) if a == "--target"]
    if args[0] == "destroy":
        state["resources"] = 0
    elif args[0] == "up":
        state["resources"] = len(targets) or 20
    state["updates"] += 1
    save(folder / "state.json", state)
    print(f"{args[0]} of {stack} done")


def main() -> None:
    argv = sys.argv[1:]
    record(argv)
    args = [a for a in argv if a != "--non-interactive"]
    if os.environ.get("PULUMI_DOUBLE_DOWN") and argv != ["version"]:
        die(os.environ.get("PULUMI_DOUBLE_DOWN_MESSAGE") or "error: could not reach the backend: connection refused")
    STACKS.mkdir(parents=True, exist_ok=True)
    pos = words(args)
    stack = flag(args, "--stack")
    if pos[:1] == ["version"]:
        print("v3.272.0")
    elif pos[:2] == ["stack", "init"]:
        try:
            os.mkdir(STACKS / pos[2])
        except FileExistsError:
            die(f"error: stack '{pos[2]}' already exists")
    elif pos[:2] == ["stack", "select"]:
        stack_dir(stack or pos[2])
    elif pos[:2] == ["stack", "ls"]:
        names = sorted(p.name for p in STACKS.iterdir() if p.is_dir())
        rows = []
        for name in names:
            state = load(STACKS / name / "state.json", {"resources": 0})
            assert isinstance(state, dict)
            rows.append(
                {"name": name, "current": False, "updateInProgress": False, "resourceCount": state["resources"]}
            )
        print(json.dumps(rows))
    elif pos[:3] == ["stack", "tag", "set"]:
        folder = stack_dir(stack or "")
        tags = load(folder / "tags.json", {})
        assert isinstance(tags, dict)
        tags[pos[3]] = pos[4]
        save(folder / "tags.json", tags)
    elif pos[:3] == ["stack", "tag", "ls"]:
        tags = load(stack_dir(stack or "") / "tags.json", {})
        assert isinstance(tags, dict)
        print(json.dumps({"pulumi:project": "codex", **tags}))
    elif pos[:2] == ["stack", "rm"]:
        name = pos[2]
        folder = stack_dir(name)
        state = load(folder / "state.json", {"resources": 0})
        assert isinstance(state, dict)
        if state["resources"] and "--force" not in args:
            die(f"error: '{name}' still has resources; removal rejected")
        for child in folder.iterdir():
            child.unlink()
        folder.rmdir()
    elif pos[:2] == ["stack", "output"]:
        print(json.dumps({"namespace": f"ns-{stack}"}))
    elif pos[:2] == ["stack", "history"]:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
        print(
            json.dumps(
                [
                    {
                        "kind": "update",
                        "startTime": stamp,
                        "endTime": stamp,
                        "message": "",
                        "environment": {},
                        "config": {},
                        "result": "succeeded",
                        "resourceChanges": {},
                    }
                ]
            )
        )
    elif pos[:2] == ["config", "set"]:
        folder = stack_dir(stack or "")
        config = load(folder / "config.json", {})
        assert isinstance(config, dict)
        config[pos[2]] = pos[3]
        save(folder / "config.json", config)
    elif pos[:1] in (["up"], ["destroy"]):
        run_update([pos[0], *args[1:]], stack or "")
    elif pos[:1] == ["refresh"]:
        folder = stack_dir(stack or "")
        state = load(folder / "state.json", {"resources": 0, "pending": False, "updates": 0})
        assert isinstance(state, dict)
        if "--clear-pending-creates" in args:
            state["pending"] = False
        save(folder / "state.json", state)
    elif pos[:1] == ["cancel"]:
        name = stack or pos[1]
        (stack_dir(name) / "cancel").write_text("1")
        print(f"The currently running update for '{name}' has been canceled!")
    else:
        die(f"error: pulumi double does not know {' '.join(argv)}", 2)


if __name__ == "__main__":
    main()
