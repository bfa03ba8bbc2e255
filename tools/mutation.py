"""``make mutation``: the mutation score of each package, measured with mutmut.

    .venv/bin/python tools/mutation.py [PACKAGE ...] [--every K] [--seed S] [--jobs N]
    .venv/bin/python tools/mutation.py --floor      # the fast subset of ``make test``

Each package is measured in a copy of the repository under ``build/mutation/<package>`` (the
links inside ``codex_stacks`` to ``components/``, ``prompts/`` and ``schemas/`` made real folders
there, so the modules are mutated under the names the tests import them by), with a ``[tool.mutmut]`` section
that mutates only that package's files and lets mutmut pick, for each mutant, the tests of that
package that call the mutated function. Everything runs under ``nice -n 10``.

A mutant is *killed* when a test fails (or the run times out), *survives* when every test that
reaches it passes, and has *no tests* when no test of the package reaches it in process (tests
that run ``codexctl`` as a subprocess import the unmutated code, so they neither reach nor kill).
The score is ``(killed + timeout) / (mutants checked)``, a mutant with no tests counting against
it; "of reached" leaves those out.

``--every K`` samples: the mutants of the package sorted by name, every K-th taken from an offset
drawn with ``--seed`` (``random.Random(seed).randrange(K)``), so a sample is repeatable;
``--sample N`` takes K = ceil(mutants / N), about N mutants spread over every file.

``--floor`` measures the module named in ``tests/mutation/floor.json`` and exits 1 when its score
is below the floor recorded there (the floor may only go up).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WORK = ROOT / "build" / "mutation"
FLOOR_FILE = ROOT / "tests" / "mutation" / "floor.json"
PACKAGE = "codex_stacks"


def package_links() -> list[str]:
    """Links inside the package to folders beside it (components, prompt_templates, schemas):
    copied as real folders, or mutmut (which walks without following links) would neither copy
    nor mutate them."""
    return sorted(
        str(path.relative_to(ROOT)) for path in (ROOT / PACKAGE).iterdir() if path.is_symlink() and path.is_dir()
    )


@dataclass(frozen=True)
class Package:
    mutate: tuple[str, ...]
    """Globs of the files mutated (mutmut's ``only_mutate``, relative to the repository)."""
    tests: tuple[str, ...]
    """The tests that may kill them (mutmut runs, per mutant, those of them that reach it)."""


PACKAGES: dict[str, Package] = {
    "plan": Package(("codex_stacks/plan/*",), ("tests/plan",)),
    "config": Package(("codex_stacks/config/*",), ("tests/config",)),
    "hooks": Package(("codex_stacks/components/hooks/*",), ("tests/hooks",)),
    "components": Package(
        (
            "codex_stacks/components/groups.py",
            "codex_stacks/components/kube.py",
            "codex_stacks/components/settings.py",
            "codex_stacks/components/stack.py",
        ),
        ("tests/components", "tests/test_secrets_audit.py"),
    ),
    "ci": Package(("codex_stacks/ci/*",), ("tests/ci",)),
}

STATUS_BY_EXIT_CODE: dict[int | None, str] = {
    1: "killed",
    3: "killed",
    0: "survived",
    5: "no tests",
    33: "no tests",
    34: "skipped",
    36: "timeout",
    24: "timeout",
    -24: "timeout",
    152: "timeout",
    255: "timeout",
    37: "killed",
    None: "not checked",
}
"""mutmut 3.8's exit codes of a mutant's test run (mutmut/stats.py); anything else is suspicious."""


@dataclass
class Score:
    name: str
    mutants: int
    counts: Counter[str]
    every: int
    minutes: float
    survivors: list[str]
    alive: list[str] = field(default_factory=list)
    """Survivors not looked at again yet (see :func:`recheck`)."""

    @property
    def checked(self) -> int:
        return sum(n for status, n in self.counts.items() if status not in ("not checked", "skipped"))

    @property
    def percent(self) -> float:
        return 100.0 * self.caught / self.checked if self.checked else 0.0

    @property
    def caught(self) -> int:
        return self.counts["killed"] + self.counts["killed on recheck"] + self.counts["timeout"]

    @property
    def reached_percent(self) -> float:
        """The score among the mutants some test reached in process (``no tests`` left out)."""
        reached = self.checked - self.counts["no tests"]
        return 100.0 * self.caught / reached if reached else 0.0


def tracked_files() -> list[str]:
    """The repository's files (committed or not, ignored ones left out): what the copy holds."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
    )
    if listed.returncode != 0:
        raise SystemExit(f"mutation: {ROOT} is not a git checkout (git ls-files: {listed.stderr.decode().strip()})")
    return [name for name in listed.stdout.decode().split("\0") if name]


def prepare(name: str, package: Package) -> Path:
    """A fresh copy of the repository with mutmut's settings for ``package``."""
    work = WORK / name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    links = package_links()
    for relative in tracked_files():
        source = ROOT / relative
        if relative in links or not (source.exists() or source.is_symlink()):
            continue
        target = work / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    for link in links:
        shutil.copytree(ROOT / link, work / link, symlinks=False, ignore=shutil.ignore_patterns("__pycache__"))
    top = sorted({relative.split("/")[0] for relative in tracked_files()} - {"codex_stacks"})
    settings = {
        "source_paths": ["codex_stacks"],
        "only_mutate": list(package.mutate),
        "also_copy": [entry for entry in top if (work / entry).exists()],
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning"],
        "pytest_add_cli_args_test_selection": list(package.tests),
        "process_isolation": "forkserver",
        "use_git_change_detection": False,
    }
    with (work / "pyproject.toml").open("a", encoding="utf-8") as pyproject:
        pyproject.write("\n[tool.mutmut]\n")
        for key, value in settings.items():
            pyproject.write(f"{key} = {json.dumps(value)}\n")
    return work


def mutmut(work: Path, arguments: Sequence[str], log: Path) -> subprocess.CompletedProcess[str]:
    command = ["nice", "-n", "10", str(BIN / "mutmut"), *arguments]
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(command)}\n{done.stdout}\n{done.stderr}\nexit {done.returncode}\n")
    return done


def mutmut_twice(name: str, work: Path, arguments: Sequence[str], log: Path) -> subprocess.CompletedProcess[str]:
    """``mutmut`` once more when it fails: its clean run of the tests (before any mutant) fails
    the whole run when one test trips on a loaded machine; the second run keeps the verdicts the
    first one reached."""
    done = mutmut(work, arguments, log)
    if done.returncode != 0:
        print(f"mutation {name}: mutmut exited {done.returncode}, running it once more (see {log})", file=sys.stderr)
        done = mutmut(work, arguments, log)
    return done


def sample(names: Sequence[str], every: int, seed: int) -> list[str]:
    if every <= 1:
        return sorted(names)
    return sorted(names)[random.Random(seed).randrange(every) :: every]


def results(work: Path, wanted: set[str] | None) -> dict[str, int | None]:
    """Each mutant's exit code, from mutmut's ``mutants/<file>.meta`` (None: not checked)."""
    found: dict[str, int | None] = {}
    for meta in (work / "mutants").rglob("*.py.meta"):
        codes = json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {})
        found.update({key: code for key, code in codes.items() if wanted is None or key in wanted})
    return found


def recheck(work: Path, names: Sequence[str], log: Path) -> dict[str, bool]:
    """Each surviving mutant against the whole test files of the tests that reached it, with the
    mutant switched on (``MUTANT_UNDER_TEST``) in this process and, through ``PYTHONPATH``, in the
    ``codexctl`` subprocesses those files start. mutmut runs only the tests that *called* the
    mutated function in its first run; a test that reads a cached result (a ``functools.cache``
    helper, a module-scoped fixture) is not among them. True: a test failed, the mutant is killed."""
    stats = json.loads((work / "mutants" / "mutmut-stats.json").read_text(encoding="utf-8"))
    reached = stats["tests_by_mangled_function_name"]
    done_before = work / "rechecked.json"
    verdicts: dict[str, bool] = json.loads(done_before.read_text(encoding="utf-8")) if done_before.exists() else {}
    for name in names:
        files = sorted({test.split("::")[0] for test in reached.get(name.rsplit("__mutmut_", 1)[0], [])})
        if not files:
            continue
        env = {
            **os.environ,
            "MUTANT_UNDER_TEST": name,
            "PYTHONPATH": str(work / "mutants"),
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        command = ["nice", "-n", "10", sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *files]
        try:
            done = subprocess.run(command, cwd=work / "mutants", env=env, capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            verdicts[name] = False  # counted as alive: a slow run proves nothing
            continue
        verdicts[name] = done.returncode == 1
        with log.open("a", encoding="utf-8") as out:
            out.write(f"recheck {name}: exit {done.returncode} ({' '.join(files)})\n")
        done_before.write_text(json.dumps(verdicts, indent=1), encoding="utf-8")
    return verdicts


def measure(
    name: str, package: Package, *, every: int, seed: int, jobs: int, sample_size: int = 0, second_look: bool = False
) -> Score:
    started = time.monotonic()
    work = prepare(name, package)
    log = WORK / f"{name}.log"
    log.write_text("", encoding="utf-8")
    if every > 1 or sample_size > 0:
        # Generate the mutants and learn which tests reach which function (mutmut keeps that in
        # mutants/mutmut-stats.json for the next run) without checking any: a name matching no
        # mutant stops mutmut right after that.
        listing = ["run", "--max-children", str(jobs), "no-such-mutant"]
        mutmut(work, listing, log)
        if not (work / "mutants" / "mutmut-stats.json").exists():
            print(f"mutation {name}: mutmut listed no mutants, running it once more (see {log})", file=sys.stderr)
            mutmut(work, listing, log)
        names = sorted(results(work, None))
        if not names or not (work / "mutants" / "mutmut-stats.json").exists():
            raise SystemExit(f"mutation {name}: mutmut could not list the mutants; see {log}")
        if sample_size > 0:
            every = max(1, -(-len(names) // sample_size))
        chosen = sample(names, every, seed)
        ran = mutmut_twice(name, work, ["run", "--max-children", str(jobs), *chosen], log)
    else:
        ran = mutmut_twice(name, work, ["run", "--max-children", str(jobs)], log)
        names = chosen = sorted(results(work, None))
    if ran.returncode != 0 or not chosen:
        raise SystemExit(f"mutation {name}: mutmut run failed (exit {ran.returncode}); see {log}")
    (work / "chosen.txt").write_text("\n".join(chosen) + "\n", encoding="utf-8")
    if second_look:
        recheck(work, score_of(name, work).alive, log)
    minutes = (time.monotonic() - started) / 60
    (work / "run.json").write_text(json.dumps({"every": every, "seed": seed, "minutes": minutes}), encoding="utf-8")
    return score_of(name, work)


def score_of(name: str, work: Path) -> Score:
    """The score of the last run in ``work`` (its mutants' exit codes, as mutmut left them)."""
    chosen = (work / "chosen.txt").read_text(encoding="utf-8").split()
    run = json.loads((work / "run.json").read_text(encoding="utf-8")) if (work / "run.json").exists() else {}
    everything = results(work, None)
    codes = {key: everything.get(key) for key in chosen}
    rechecked = (
        json.loads((work / "rechecked.json").read_text(encoding="utf-8")) if (work / "rechecked.json").exists() else {}
    )
    status = {key: STATUS_BY_EXIT_CODE.get(code, "suspicious") for key, code in codes.items()}
    alive = sorted(key for key, verdict in status.items() if verdict == "survived")
    status.update({key: "killed on recheck" for key in alive if rechecked.get(key)})
    counts: Counter[str] = Counter(status.values())
    survivors = sorted(key for key, verdict in status.items() if verdict in ("survived", "no tests"))
    (work / "survivors.txt").write_text("".join(f"{key}\n" for key in survivors), encoding="utf-8")
    every = int(run.get("every", round(len(everything) / len(chosen))))
    score = Score(name, len(everything), counts, every, float(run.get("minutes", 0.0)), survivors)
    score.alive = [key for key in alive if key not in rechecked]
    return score


def table(scores: Sequence[Score]) -> str:
    head = (
        "package",
        "mutants",
        "checked",
        "killed",
        "on recheck",
        "timeout",
        "survived",
        "no tests",
        "other",
        "score",
        "of reached",
        "minutes",
    )
    rows = [head]
    for s in scores:
        other = s.checked - s.caught - s.counts["survived"] - s.counts["no tests"]
        sampled = f" (1 in {s.every})" if s.every > 1 else ""
        rows.append(
            (
                s.name,
                str(s.mutants),
                f"{s.checked}{sampled}",
                str(s.counts["killed"]),
                str(s.counts["killed on recheck"]),
                str(s.counts["timeout"]),
                str(s.counts["survived"]),
                str(s.counts["no tests"]),
                str(other),
                f"{s.percent:.1f} %",
                f"{s.reached_percent:.1f} %",
                f"{s.minutes:.1f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows)


def floor_check(jobs: int) -> int:
    floor = json.loads(FLOOR_FILE.read_text(encoding="utf-8"))
    package = Package(tuple(floor["mutate"]), tuple(floor["tests"]))
    score = measure("floor", package, every=1, seed=0, jobs=jobs)
    print(table([score]))
    if round(score.percent, 1) < float(floor["floor"]):
        print(
            f"mutation score of {', '.join(package.mutate)} fell to {score.percent:.1f} % "
            f"(floor {floor['floor']} % in {FLOOR_FILE.relative_to(ROOT)}); surviving mutants: "
            f"{', '.join(score.survivors)} (see them with: cd build/mutation/floor && {BIN}/mutmut show NAME)"
        )
        return 1
    return 0


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="tools/mutation.py", description=__doc__.splitlines()[0])
    parser.add_argument("packages", nargs="*", metavar="PACKAGE", help=f"{', '.join(PACKAGES)} (default: all)")
    parser.add_argument("--every", type=int, default=1, help="check every K-th mutant only (a seeded sample)")
    parser.add_argument(
        "--sample", type=int, default=0, help="about N mutants: K = ceil(mutants / N) (overrides --every)"
    )
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--jobs", type=int, default=2, help="mutants checked at once (default 2)")
    parser.add_argument("--floor", action="store_true", help="the fast subset: fail below tests/mutation/floor.json")
    parser.add_argument("--report", action="store_true", help="the table of the last runs in build/mutation, no run")
    parser.add_argument(
        "--recheck",
        action="store_true",
        help="run each survivor against the whole test files of the tests that reached it (with --report: "
        "the last run's survivors not rechecked yet)",
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.packages if name not in PACKAGES]
    if unknown:
        parser.error(f"unknown package {', '.join(unknown)}: choose from {', '.join(PACKAGES)}")
    if args.floor:
        return floor_check(args.jobs)
    if args.report:
        done = [name for name in args.packages or list(PACKAGES) if (WORK / name / "chosen.txt").exists()]
        if args.recheck:
            for name in done:
                recheck(WORK / name, score_of(name, WORK / name).alive, WORK / f"{name}.log")
        print(table([score_of(name, WORK / name) for name in done]))
        return 0
    scores = []
    for name in args.packages or list(PACKAGES):
        score = measure(
            name,
            PACKAGES[name],
            every=args.every,
            seed=args.seed,
            jobs=args.jobs,
            sample_size=args.sample,
            second_look=args.recheck,
        )
        print(table([score]).splitlines()[1], flush=True)
        scores.append(score)
    print(table(scores))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
