"""How long does ``import geonb`` take in a fresh interpreter? (target: < 0.3 s, README)

Runs ``python -c "import geonb"`` and the baseline ``python -c "pass"`` (the interpreter's own
start-up) in fresh processes, alternating, ``--repeats`` times each, and prints the medians of the
wall times, their difference (what importing geonb costs) and the import as timed inside the child
(``time.perf_counter`` around ``import geonb``). That ``import geonb`` loads no Keras or backend is a
test (tests/test_runtime.py); here it is only reported.

Writes every number to ``build/bench/import.json``.

Run: ``.venv/bin/python benchmarks/bench_import.py``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JSON_OUT = ROOT / "build" / "bench" / "import.json"
#: The README's budget for ``import geonb`` (seconds).
TARGET_S = 0.3

BASELINE = "pass"
IMPORT = "import geonb"
#: Timed inside the child; also says whether a Keras backend came along.
IN_CHILD = ("import sys, time; t = time.perf_counter(); import geonb; t = time.perf_counter() - t; "
            "print(t, any(m in sys.modules for m in ('keras', 'tensorflow', 'torch', 'jax')))")


def wall_seconds(code: str) -> float:
    """Wall time of a fresh ``python -c code``, start-up and exit included."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def in_child() -> tuple[float, bool]:
    out = subprocess.run([sys.executable, "-c", IN_CHILD], check=True, cwd=ROOT, capture_output=True,
                         text=True).stdout.split()
    return float(out[0]), out[1] == "True"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="fresh interpreters per measurement (median)")
    parser.add_argument("--json", type=Path, default=JSON_OUT)
    args = parser.parse_args(argv)

    wall_seconds(IMPORT)  # warm the file system cache and the .pyc files
    base, full, child, backend = [], [], [], False
    for _ in range(args.repeats):
        base.append(wall_seconds(BASELINE))
        full.append(wall_seconds(IMPORT))
        t, loaded = in_child()
        child.append(t)
        backend |= loaded
    result = {
        "python": sys.version.split()[0], "repeats": args.repeats, "target_s": TARGET_S,
        "baseline_pass_s": statistics.median(base), "import_geonb_s": statistics.median(full),
        "import_cost_s": statistics.median(full) - statistics.median(base),
        "import_in_child_s": statistics.median(child), "backend_imported": backend,
        "runs": {"baseline_pass_s": base, "import_geonb_s": full, "import_in_child_s": child},
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1))

    ms = 1000
    print(f"{'fresh interpreter':<34}{'median ms':>10}{'runs':>6}")
    for name, key, runs in (('python -c "pass" (baseline)', "baseline_pass_s", base),
                            ('python -c "import geonb"', "import_geonb_s", full)):
        print(f"{name:<34}{result[key] * ms:>10.0f}{len(runs):>6}")
    print(f"{'difference: importing geonb':<34}{result['import_cost_s'] * ms:>10.0f}")
    print(f"{'import geonb, timed in the child':<34}{result['import_in_child_s'] * ms:>10.0f}{len(child):>6}")
    print(f"Keras or a backend imported: {backend}")
    print(f"target < {TARGET_S * ms:.0f} ms for the import: "
          f"{'met' if result['import_cost_s'] < TARGET_S else 'NOT met'} ({result['import_cost_s'] * ms:.0f} ms)")
    print(f"numbers in {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
