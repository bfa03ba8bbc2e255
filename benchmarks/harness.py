"""Timing and reporting shared by the benchmarks: best-of-N timings and the result table."""

from __future__ import annotations

import gc
import resource
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeVar

T = TypeVar("T")
ClockName = Literal["wall", "cpu"]
CLOCKS: dict[ClockName, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}
"""``wall`` (the default) is what a user waits for; ``cpu`` counts only this process's own work
(all threads), which keeps ratios steady on a machine shared with other jobs."""
_clock: list[ClockName] = ["wall"]  # the one setting of a run, chosen by ``--clock``


def use_clock(name: ClockName) -> None:
    _clock[0] = name


def clock_name() -> ClockName:
    return _clock[0]


def now() -> float:
    return CLOCKS[_clock[0]]()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_child(run: Callable[[], object]) -> float:
    """Seconds of ``run``, which starts and waits for a child process: wall time, or with the
    cpu clock the CPU time of the children it waited for."""
    if _clock[0] == "cpu":
        before = _children_cpu()
        run()
        return _children_cpu() - before
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


@dataclass(frozen=True)
class Timing:
    """Every repetition of one measurement, in seconds."""

    samples: tuple[float, ...]

    @property
    def best(self) -> float:
        return min(self.samples)


def time_once(func: Callable[[], object], *, before: Callable[[], None] | None = None) -> float:
    """Seconds of one call; ``before`` (e.g. clearing a cache) and a GC run are not timed."""
    if before is not None:
        before()
    gc.collect()
    start = now()
    func()
    return now() - start


def best_of(func: Callable[[], T], *, runs: int, before: Callable[[], None] | None = None) -> tuple[float, T]:
    """The fastest of ``runs`` calls (each prepared by ``before`` and a GC run) and the last result."""
    if runs < 1:
        raise ValueError("runs must be at least 1")
    best = float("inf")
    result: T | None = None
    for _ in range(runs):
        if before is not None:
            before()
        gc.collect()
        start = now()
        result = func()
        best = min(best, now() - start)
    return best, result  # type: ignore[return-value]  # set by the first run


def interleave(
    cases: Mapping[str, Callable[[], object]],
    *,
    repeats: int,
    warmups: int = 1,
    before: Callable[[], None] | None = None,
) -> dict[str, Timing]:
    """Best-of-``repeats`` of every case, run in rounds (the order rotating each round) so that
    drift of the machine (other jobs, CPU frequency) hits every case alike."""
    names = list(cases)
    for _ in range(warmups):
        for name in names:
            cases[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(repeats):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(time_once(cases[name], before=before))
    return {name: Timing(tuple(values)) for name, values in samples.items()}


@dataclass
class Result:
    """One row of the table: ``measured / baseline`` against ``target``.

    With ``absolute_target`` the target applies to the measured seconds themselves (start-up);
    the ratio is then only shown.
    """

    name: str
    measured: float
    baseline: float
    target: float
    absolute_target: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.measured / self.baseline if self.baseline > 0 else float("inf")

    @property
    def passed(self) -> bool:
        value = self.measured if self.absolute_target else self.ratio
        return value <= self.target

    @property
    def target_text(self) -> str:
        return f"≤ {self.target:g} s" if self.absolute_target else f"≤ {self.target:g}x"


def seconds(value: float) -> str:
    """A duration with a unit that keeps three significant digits."""
    if value < 1e-3:
        return f"{value * 1e6:.0f} µs"
    if value < 1:
        return f"{value * 1e3:.1f} ms"
    return f"{value:.2f} s"


def table(results: Sequence[Result]) -> str:
    """The results as a plain-text table (also valid Markdown, for the README)."""
    header = ("benchmark", "measured", "baseline", "ratio", "target", "result")
    rows = [
        (
            r.name,
            seconds(r.measured),
            seconds(r.baseline),
            f"{r.ratio:.2f}x",
            r.target_text,
            "PASS" if r.passed else "MISS",
        )
        for r in results
    ]
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    right = {1, 2, 3}

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if i in right else "-" * (w + 2) for i, w in enumerate(widths)) + "|"
    return "\n".join([line(header), rule, *(line(row) for row in rows)])
