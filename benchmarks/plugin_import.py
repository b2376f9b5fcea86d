"""What installing mlqa costs a pytest run that uses no mlqa check (target: <= 50 ms).

Runs the same one-test suite with the plugin loaded and with it disabled (``-p no:mlqa``),
interleaved so machine noise hits both alike, and prints the best times and their difference
(medians beside them).
Also prints ``python -X importtime``'s cumulative figure for the plugin module alone.

    python benchmarks/plugin_import.py [--rounds 21]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_MS = 50.0


def run_once(folder: Path, *extra: str, isolated: bool = False) -> float:
    # isolated: no other installed plugin is auto-loaded (hypothesis and faker alone take
    # seconds here), and mlqa is loaded by name: the difference is mlqa's cost and nothing else.
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"} if isolated else None
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra,
                    str(folder)], check=True, capture_output=True, env=env)
    return (time.perf_counter() - start) * 1000


def plugin_import_ms() -> float:
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import pytest_mlqa.plugin"],
                         capture_output=True, text=True, check=True).stderr
    # "import time: self [us] | cumulative | imported package"; pytest itself is imported by
    # the plugin but is paid by every pytest run anyway, so subtract it.
    cumulative = {m.group(3).strip(): int(m.group(2)) for m in re.finditer(
        r"import time:\s+(\d+) \|\s+(\d+) \|(.*)", out)}
    return (cumulative.get("pytest_mlqa.plugin", 0) - cumulative.get("pytest", 0)) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "test_plain.py").write_text("def test_plain():\n    assert 1 + 1 == 2\n")
        run_once(folder)  # warm the file cache
        arms = {
            "isolated": (("-p", "pytest_mlqa.plugin"), (), True),
            "installed": ((), ("-p", "no:mlqa"), False),
        }
        times: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in arms}
        for _ in range(args.rounds):
            for name, (with_args, without_args, isolated) in arms.items():
                times[name][0].append(run_once(folder, *with_args, isolated=isolated))
                times[name][1].append(run_once(folder, *without_args, isolated=isolated))
    # Noise only ever adds time, so the best of many interleaved runs is the figure judged;
    # medians are printed beside it to show the spread.
    print(f"pytest run of one plain test, {args.rounds} interleaved rounds, best (median):")
    for name, (with_plugin, without) in times.items():
        best_with, best_without = min(with_plugin), min(without)
        diff = best_with - best_without
        median_diff = statistics.median(with_plugin) - statistics.median(without)
        label = ("autoload off, -p pytest_mlqa.plugin vs nothing" if name == "isolated"
                 else "all installed plugins, mlqa vs -p no:mlqa")
        print(f"  [{label}]")
        print(f"    anchor (without mlqa): {best_without:8.1f} ms "
              f"({statistics.median(without):.1f})")
        print(f"    with mlqa            : {best_with:8.1f} ms "
              f"({statistics.median(with_plugin):.1f})   ratio {best_with / best_without:.3f}")
        print(f"    added by mlqa        : {diff:8.1f} ms ({median_diff:.1f})   target <= "
              f"{TARGET_MS:.0f} ms  {'OK' if diff <= TARGET_MS else 'OVER'}")
    print(f"  import of pytest_mlqa.plugin beyond pytest (-X importtime): "
          f"{plugin_import_ms():.1f} ms")


if __name__ == "__main__":
    main()
