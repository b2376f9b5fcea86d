"""What a hostile suite file costs the loader now that it is bounded (target: refused in
< 1 s and < 50 MB whatever the file), beside what a large honest suite costs.

Alias bombs of 5 to 9 levels (nine aliases of the level below each; 351 bytes at 7 levels
once expanded 9**7 values), a recursive anchor, nesting 200,000 deep, a file at the size
limit, as many values as a suite may hold, and for scale a suite of 2,000 checks that loads.
Prints seconds and peak traced memory.

    python benchmarks/suite_yaml_limits.py
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from pathlib import Path

from mlqa.suite import SuiteError, load_suites
from mlqa.suite.yamlpos import MAX_BYTES

TARGET_S, TARGET_MB = 1.0, 50.0


def bomb(levels: int) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join([*lines, f"checks: *a{levels - 1}"]) + "\n"


def honest(checks: int) -> str:
    rows = "".join(f"  - {{id: rows_{i}, kind: row_count, data: t, min: {i}}}\n"
                   for i in range(checks))
    return "data:\n  t: {path: t.csv}\nchecks:\n" + rows


def measure(name: str, text: str, folder: Path) -> tuple[float, float, str]:
    path = folder / "s.mlqa.yaml"
    path.write_text(text)

    def load() -> str:
        try:
            return f"loaded {len(load_suites(path)[0].checks)} checks"
        except SuiteError as exc:
            return str(exc).splitlines()[0].split(": ", 1)[1][:60]

    start = time.perf_counter()
    what = load()
    took = time.perf_counter() - start
    tracemalloc.start()  # a second run for the memory: tracing slows Python several-fold
    load()
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return took, peak, what


def main() -> None:
    cases = [(f"alias bomb, {n} levels ({len(bomb(n))} B)", bomb(n)) for n in range(5, 10)]
    cases += [("recursive anchor", "a: &a [*a]\nchecks: []\n"),
              ("nested 200,000 deep", "a: " + "[" * 200_000 + "\n"),
              ("file at the size limit", "checks: []\n#" + "x" * (MAX_BYTES - 14) + "\n"),
              ("one string at the size limit", "checks: []\ns: '" + "x" * (MAX_BYTES - 20)
               + "'\n"),
              ("20,000 values: just within", "checks: []\na: [" + ",".join(["1"] * 19_990)
               + "]\n"),
              ("honest suite, 2,000 checks", honest(2000))]
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in cases:
            took, peak, what = measure(name, text, Path(tmp))
            if not name.startswith("honest"):
                worst = max(worst, took / TARGET_S, peak / TARGET_MB)
            print(f"{name:34s} {took * 1000:8.1f} ms {peak:7.1f} MB  {what}")
    print(f"worst hostile case / target: {worst:.2f} (<= 1 meets {TARGET_S:g} s and "
          f"{TARGET_MB:g} MB)")


if __name__ == "__main__":
    main()
