#!/usr/bin/env python3
"""Times two symbiose binaries on the same generated territory, runs
alternated so that both see the same machine load; prints the median wall
time of each and their ratio (issue 17: Part A's speed must not change).

    python3 scripts/bench-compare.py BASELINE_BINARY NEW_BINARY [--firms 2000] [--runs 5] [--objective externalities]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("baseline")
    parser.add_argument("new")
    parser.add_argument("--firms", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--objective", default="externalities")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        territory = os.path.join(work, "territory")
        subprocess.run([args.new, "generate", "--firms", str(args.firms), "--seed", "1", "--out", territory],
                       check=True, capture_output=True)
        times = {"baseline": [], "new": []}
        for run in range(args.runs):
            for name, binary in (("baseline", args.baseline), ("new", args.new)):
                out = os.path.join(work, f"{name}-{run}")
                started = time.perf_counter()
                result = subprocess.run([binary, "optimize", territory, "--objective", args.objective, "--out", out, "-q"],
                                        capture_output=True, text=True)
                elapsed = time.perf_counter() - started
                if result.returncode != 0:
                    sys.exit(f"{name} exited {result.returncode}: {result.stderr}")
                times[name].append(elapsed)
        base, new = statistics.median(times["baseline"]), statistics.median(times["new"])
        print(f"{args.firms} firms, objective {args.objective}, {args.runs} alternated runs each")
        print(f"baseline: median {base:.3f} s  (runs {', '.join(f'{t:.2f}' for t in times['baseline'])})")
        print(f"new:      median {new:.3f} s  (runs {', '.join(f'{t:.2f}' for t in times['new'])})")
        print(f"ratio new/baseline: {new / base:.3f}")


if __name__ == "__main__":
    main()
