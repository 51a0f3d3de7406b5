#!/usr/bin/env python3
"""Compares the answers of two symbiose binaries on every bundled territory
under every objective: the refactor guard of issue 17.

    python3 scripts/compare-answers.py BASELINE_BINARY NEW_BINARY [--rel 1e-7] [--abs 1e-6]
        [--new-args "ARGS"] [--totals-only]

For each territory (data/dunkirk, kalundborg, union-roubaix,
dunkirk-seasonal) and each objective (externalities, private, social), both
binaries run `optimize` into temporary folders; then summary.json's totals
(baseline and optimized private cost, externalities, firm value, territory
value global and local, status, link count), firm_values.csv and
territory_values.csv (every numeric column, rows matched by their id
columns) must agree within |a - b| <= abs + rel * max(|a|, |b|). Fields
that only one binary writes are listed, not failed: a new field is an
addition. `generate --firms 2000 --seed 1` must write the same bytes.
Exits 1 on any difference, 0 when all agree.

--new-args passes more options to the new binary's `optimize` (e.g.
"--no-decompose": the monolithic solve must give the baseline's answers
exactly). --totals-only compares summary.json's totals alone (not the link
count, nor the per-firm tables): where optima tie, a decomposed solve may
pick another optimal vertex (issue 13), which moves value between firms
but not the totals.

The baseline is built once from the commit before a refactor step, into
its own target folder, e.g.:
    git worktree add /tmp/base <commit> && (cd /tmp/base && CARGO_TARGET_DIR=/root/.cache/symbiose-baseline-target cargo build --release)
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

TERRITORIES = ["dunkirk", "kalundborg", "union-roubaix", "dunkirk-seasonal"]
OBJECTIVES = ["externalities", "private", "social"]
SUMMARY_NUMBERS = [
    "firm_value_eur",
    "territory_value_eur",
    "territory_value_global_eur",
    "territory_value_local_eur",
    "n_links",
    "n_candidate_links",
    "n_firms",
    "n_flows",
]
TABLES = ["firm_values.csv", "territory_values.csv"]


def close(a, b, rel, abs_tol):
    return abs(a - b) <= abs_tol + rel * max(abs(a), abs(b))


def number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def flatten(prefix, value, out):
    if isinstance(value, dict):
        for key, inner in value.items():
            flatten(f"{prefix}.{key}" if prefix else key, inner, out)
    else:
        out[prefix] = value


def run(binary, territory, objective, out, extra=()):
    command = [binary, "optimize", os.path.join("data", territory), "--objective", objective, "--out", out, "-q", *extra]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} exited {result.returncode}:\n{result.stderr}")


def read_table(path):
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return rows


def compare_tables(name, base_rows, new_rows, rel, abs_tol, problems, notes):
    if not base_rows and not new_rows:
        return
    columns = list((base_rows or new_rows)[0].keys())
    # Id columns: those that are not numbers in the first row.
    keys = [c for c in columns if number((base_rows or new_rows)[0][c]) is None]

    def keyed(rows):
        return {tuple(row.get(k, "") for k in keys): row for row in rows}

    base, new = keyed(base_rows), keyed(new_rows)
    if set(base) != set(new):
        problems.append(f"{name}: rows differ: only in baseline {sorted(set(base) - set(new))[:5]}, only in new {sorted(set(new) - set(base))[:5]}")
        return
    for key, base_row in base.items():
        new_row = new[key]
        for column, base_text in base_row.items():
            if column not in new_row:
                notes.add(f"{name}: column {column} only in baseline")
                continue
            a, b = number(base_text), number(new_row[column])
            if a is None or b is None:
                if base_text != new_row[column]:
                    problems.append(f"{name} {key} {column}: {base_text!r} vs {new_row[column]!r}")
            elif not close(a, b, rel, abs_tol):
                problems.append(f"{name} {key} {column}: {a!r} vs {b!r}")
        for column in new_row:
            if column not in base_row:
                notes.add(f"{name}: column {column} only in new")


def main():
    args = sys.argv[1:]
    rel, abs_tol = 1e-7, 1e-6
    if "--rel" in args:
        i = args.index("--rel"); rel = float(args[i + 1]); del args[i:i + 2]
    if "--abs" in args:
        i = args.index("--abs"); abs_tol = float(args[i + 1]); del args[i:i + 2]
    new_args = []
    if "--new-args" in args:
        i = args.index("--new-args"); new_args = args[i + 1].split(); del args[i:i + 2]
    totals_only = "--totals-only" in args
    if totals_only:
        args.remove("--totals-only")
    if len(args) != 2:
        sys.exit(__doc__)
    base_binary, new_binary = (os.path.abspath(a) for a in args)
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    problems, notes, n_compared = [], set(), 0
    with tempfile.TemporaryDirectory() as work:
        for territory in TERRITORIES:
            for objective in OBJECTIVES:
                label = f"{territory}/{objective}"
                problems_before = len(problems)
                base_out = os.path.join(work, label.replace("/", "-") + "-base")
                new_out = os.path.join(work, label.replace("/", "-") + "-new")
                run(base_binary, territory, objective, base_out)
                run(new_binary, territory, objective, new_out, new_args)
                base_summary, new_summary = ({}, {})
                flatten("", json.load(open(os.path.join(base_out, "summary.json"))), base_summary)
                flatten("", json.load(open(os.path.join(new_out, "summary.json"))), new_summary)
                numbers = [f for f in SUMMARY_NUMBERS if f != "n_links"] if totals_only else SUMMARY_NUMBERS
                fields = numbers + [k for k in base_summary if k.startswith(("baseline.", "optimized."))]
                for field in fields:
                    if field not in base_summary or field not in new_summary:
                        notes.add(f"summary.json {field}: only in one binary")
                        continue
                    a, b = base_summary[field], new_summary[field]
                    n_compared += 1
                    if not close(float(a), float(b), rel, abs_tol):
                        problems.append(f"{label} summary.json {field}: {a!r} vs {b!r}")
                if base_summary.get("status") != new_summary.get("status"):
                    problems.append(f"{label} summary.json status: {base_summary.get('status')} vs {new_summary.get('status')}")
                for table in [] if totals_only else TABLES:
                    base_rows = read_table(os.path.join(base_out, table))
                    new_rows = read_table(os.path.join(new_out, table))
                    n_compared += sum(len(r) for r in base_rows)
                    compare_tables(f"{label} {table}", base_rows, new_rows, rel, abs_tol, problems, notes)
                print(f"{label}: {'differs' if len(problems) > problems_before else 'same'}", flush=True)
    for note in sorted(notes):
        print(f"note: {note}")
    # `generate` must give the same bytes (its recipes are data).
    with tempfile.TemporaryDirectory() as work:
        outs = []
        for name, binary in (("base", base_binary), ("new", new_binary)):
            out = os.path.join(work, name)
            command = [binary, "generate", "--firms", "2000", "--seed", "1", "--out", out]
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                sys.exit(f"{' '.join(command)} exited {result.returncode}:\n{result.stderr}")
            outs.append({f: open(os.path.join(out, f), "rb").read() for f in sorted(os.listdir(out)) if f.endswith(".csv")})
        if outs[0] != outs[1]:
            problems.append(f"generate --firms 2000 --seed 1: the files differ ({sorted(outs[0])} vs {sorted(outs[1])})")
        print(f"generate: {'differs' if outs[0] != outs[1] else 'same bytes'}")
    if problems:
        print(f"{len(problems)} differences:")
        for problem in problems[:200]:
            print(f"  {problem}")
        sys.exit(1)
    print(f"same answers: {len(TERRITORIES) * len(OBJECTIVES)} runs, {n_compared} values within rel {rel:g}, abs {abs_tol:g}; generate gives the same bytes")


if __name__ == "__main__":
    main()
