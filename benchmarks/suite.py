"""The benchmark suite: run the selected benchmarks, print the table, decide the exit code."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from benchmarks.bench_plan import bench_plan_vs_raw, bench_scaling
from benchmarks.bench_preview import bench_preview
from benchmarks.bench_render import bench_render
from benchmarks.bench_startup import bench_startup
from benchmarks.harness import Result, clock_name, table, use_clock


@dataclass(frozen=True)
class Benchmark:
    key: str
    run: Callable[[bool], Result]
    """Called with ``quick``: fewer repetitions (a smoke run, not a measurement)."""


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("preview-50", lambda quick: bench_preview(50, repeats=2 if quick else 5)),
    Benchmark("preview-1000", lambda quick: bench_preview(1000, repeats=1 if quick else 2)),
    Benchmark("plan", lambda quick: bench_plan_vs_raw(repeats=5 if quick else 25)),
    Benchmark("render", lambda quick: bench_render(repeats=5 if quick else 25)),
    Benchmark("scaling", lambda quick: bench_scaling(repeats=1 if quick else 2)),
    Benchmark("startup", lambda quick: bench_startup(repeats=3 if quick else 7)),
)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks/run.py",
        description="Benchmarks of codex stacks; each compares against a baseline measured in the same run.",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a benchmark misses its target")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions: a smoke run, not a measurement")
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="wall: elapsed time (default); cpu: this process's (or the child's) CPU time, steadier on a busy machine",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=[b.key for b in BENCHMARKS],
        metavar="NAME",
        help=f"run only these ({', '.join(b.key for b in BENCHMARKS)}); repeatable",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    selected = [b for b in BENCHMARKS if not args.only or b.key in args.only]
    use_clock(args.clock)
    print(
        f"python {platform.python_version()} on {platform.machine()} {platform.system()}, "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; {clock_name()} clock",
        flush=True,
    )
    results: list[Result] = []
    started = time.perf_counter()
    for benchmark in selected:
        print(f"running {benchmark.key} …", file=sys.stderr, flush=True)
        results.append(benchmark.run(args.quick))
    print()
    print(table(results))
    print()
    for result in results:
        for note in result.notes:
            print(f"- {result.name}: {note}")
    missed = [r.name for r in results if not r.passed]
    print()
    print(f"{len(results) - len(missed)}/{len(results)} within target ({time.perf_counter() - started:.0f} s)")
    return 1 if args.strict and missed else 0
