"""``make bench``: ``.venv/bin/python benchmarks/run.py [--strict] [--quick] [--only NAME]``.

Every benchmark prints a ratio against a baseline measured in the same run, never an absolute
time (start-up has an absolute target too); see ``benchmarks/suite.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    # Run as a script, the first import path is benchmarks/ itself; the repository root is
    # what makes ``benchmarks`` importable (and keeps our modules from shadowing others).
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [str(ROOT), *(entry for entry in sys.path if entry not in (here, str(ROOT)))]
    from benchmarks.suite import main as suite_main

    return suite_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
