"""The Python package against the command line it shares its code with.

The command line is the binary built from the same repository
(SYMBIOSE_BIN, else target/release/symbiose under CARGO_TARGET_DIR or the
repository). Every table the package returns is compared with the CSV the
command line writes for the same inventory, for the bundled Dunkirk
example and for a generated 2,000-firm territory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import symbiose

REPO = Path(__file__).resolve().parents[2]
TABLES = ["links", "flow_results", "firm_values", "territory_values"]
# summary.json fields that differ between two runs of the same solve, or
# between the folder a CLI run wrote and a run in memory.
RUN_FIELDS = {"solve_seconds", "files", "inventory"}


def binary() -> Path:
    given = os.environ.get("SYMBIOSE_BIN")
    if given:
        return Path(given)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    path = target / "release" / "symbiose"
    if not path.exists():
        pytest.fail(f"no symbiose binary at {path}: build it with `cargo build --release` or set SYMBIOSE_BIN")
    return path


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary()), *args], cwd=cwd, capture_output=True, text=True)


def assert_same_tables(result: symbiose.Results, folder: Path) -> None:
    """Each table the package returned equals the CLI's CSV, read with the
    package's own column types; then the summaries, run fields aside."""
    written = json.loads((folder / "summary.json").read_text())
    names = sorted(name[: -len(".csv")] for name in written["files"] if name.endswith(".csv"))
    assert sorted(result.tables) == names
    for name, frame in result.tables.items():
        cli_frame = pl.read_csv(folder / f"{name}.csv", schema=frame.schema)
        assert_frame_equal(frame, cli_frame, check_exact=True)
    mine = {k: v for k, v in result.summary.items() if k not in RUN_FIELDS}
    theirs = {k: v for k, v in written.items() if k not in RUN_FIELDS}
    assert mine == theirs


@pytest.fixture(scope="module")
def dunkirk_cli(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("dunkirk")
    run = cli("optimize", "--out", "cli", "-q", cwd=work)
    assert run.returncode == 0, run.stderr
    return work / "cli"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("generated")
    run = cli("generate", "--firms", "2000", "--seed", "1", "--out", "territory", cwd=work)
    assert run.returncode == 0, run.stderr
    run = cli("optimize", "territory", "--out", "cli", "-q", cwd=work)
    assert run.returncode == 0, run.stderr
    return work


def test_bundled_dunkirk_gives_the_command_lines_tables(dunkirk_cli):
    inv = symbiose.bundled("dunkirk")
    assert inv.n_firms > 0 and inv.n_flows > 0
    res = symbiose.optimize(inv, objective="externalities", supplier_share=0.5)
    assert_same_tables(res, dunkirk_cli)
    assert res.links.height == res.summary["n_links"]
    # The data folder of the same example gives the same optimum.
    res_folder = symbiose.optimize(symbiose.load(REPO / "data" / "dunkirk"))
    for name in TABLES:
        assert_frame_equal(res.tables[name], res_folder.tables[name])
    # pandas, as analysts hold their tables.
    pandas = res.firms.to_pandas()
    assert list(pandas.columns) == res.firms.columns
    assert len(pandas) == res.firms.height


def test_a_generated_territory_of_2000_firms_gives_the_command_lines_tables(generated):
    inv = symbiose.load(generated / "territory")
    assert inv.n_firms == 2000
    res = symbiose.optimize(inv)
    assert_same_tables(res, generated / "cli")


def test_write_gives_the_command_lines_files(dunkirk_cli, tmp_path):
    res = symbiose.optimize(symbiose.bundled())
    res.write(tmp_path / "py")
    for name in TABLES:
        assert (tmp_path / "py" / f"{name}.csv").read_bytes() == (dunkirk_cli / f"{name}.csv").read_bytes(), name
    mine = json.loads((tmp_path / "py" / "summary.json").read_text())
    theirs = json.loads((dunkirk_cli / "summary.json").read_text())
    assert {k: v for k, v in mine.items() if k != "solve_seconds"} == {
        k: v for k, v in theirs.items() if k != "solve_seconds"
    }


def test_frames_give_the_same_optimum_as_the_folder(tmp_path):
    import pandas as pd  # the `test` extra installs it
    folder = REPO / "data" / "dunkirk"
    frames = {
        path.stem: pd.read_csv(path, dtype=str, keep_default_na=False)
        for path in sorted(folder.glob("*.csv"))
        if path.stem in ("firms", "flows", "distances", "uncertainty") or path.stem in symbiose._TABLES
    }
    frames.pop("uncertainty", None)
    inv = symbiose.Inventory.from_frames(**frames)
    res = symbiose.optimize(inv)
    res_folder = symbiose.optimize(symbiose.load(folder))
    for name in TABLES:
        assert_frame_equal(res.tables[name], res_folder.tables[name])
    # polars frames too.
    inv_pl = symbiose.Inventory.from_frames(**{k: pl.from_pandas(v) for k, v in frames.items()})
    assert_frame_equal(symbiose.optimize(inv_pl).links, res.links)


def test_invalid_input_lists_every_problem_with_file_line_and_column(tmp_path):
    folder = tmp_path / "bad"
    shutil.copytree(REPO / "data" / "dunkirk", folder)
    flows = (folder / "flows.csv").read_text().splitlines()
    header = flows[0].split(",")
    quantity = header.index("quantity")
    row = flows[2].split(",")
    row[quantity] = "-5"
    flows[2] = ",".join(row)
    (folder / "flows.csv").write_text("\n".join(flows) + "\n")
    with pytest.raises(symbiose.InputError) as caught:
        symbiose.load(folder)
    errors = caught.value.errors
    assert errors, "the problems are listed"
    first = errors[0]
    assert first["file"].endswith("flows.csv")
    assert first["line"] == 3
    assert first["column"] == "quantity"
    assert "quantity" in str(caught.value)
    # The same problem in a data frame is located the same way.
    firms = pl.read_csv(folder / "firms.csv", infer_schema=False)
    flows_frame = pl.read_csv(folder / "flows.csv", infer_schema=False)
    distances = pl.read_csv(folder / "distances.csv", infer_schema=False)
    with pytest.raises(symbiose.InputError) as caught:
        symbiose.Inventory.from_frames(firms=firms, flows=flows_frame, distances=distances)
    first = caught.value.errors[0]
    assert first["file"] == "flows (data frame)"
    assert (first["line"], first["column"]) == (3, "quantity")
    with pytest.raises(ValueError):
        symbiose.Inventory.from_frames(firms=firms, flows=flows_frame, colours=firms)
    with pytest.raises(symbiose.InputError):
        symbiose.load(tmp_path / "no-such-folder")


def test_solver_outcomes_have_their_own_exception_types():
    split = symbiose.load(REPO / "tests" / "data" / "split_by_distance")
    # The boiler banned: 20 MWh of demand cannot be placed.
    with pytest.raises(symbiose.InfeasibleError) as caught:
        symbiose.optimize(split.without(routes=["boiler"]))
    assert "cannot be placed" in str(caught.value)
    # A zero time limit: no solution (TimeLimitError) or the best one found,
    # marked as such (the command line's exit code 5 either way).
    try:
        stopped = symbiose.optimize(symbiose.bundled(), time_limit=0.0)
    except symbiose.TimeLimitError:
        pass
    else:
        assert stopped.summary["status"] == "time_limit"
        assert stopped.summary["proven_optimal"] is False
    for error in (symbiose.InfeasibleError, symbiose.TimeLimitError, symbiose.SolverError, symbiose.InputError):
        assert issubclass(error, symbiose.SymbioseError)
    with pytest.raises(ValueError):
        symbiose.optimize(split, objective="cheapest")
    with pytest.raises(ValueError):
        symbiose.optimize(split, supplier_share=1.5)


def test_sweep_resilience_and_pareto_give_the_command_lines_tables(tmp_path):
    scenario = REPO / "tests" / "data" / "scenarios" / "grid.toml"
    run = cli("sweep", str(scenario), "--out", "sweep", "-q", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    frame = symbiose.sweep(scenario)
    assert_frame_equal(frame, pl.read_csv(tmp_path / "sweep" / "sweep.csv", schema=frame.schema), check_exact=True)

    split = REPO / "tests" / "data" / "split_by_distance"
    run = cli("resilience", str(split), "--out", "res", "-q", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    frame = symbiose.resilience(symbiose.load(split))
    assert_frame_equal(
        frame, pl.read_csv(tmp_path / "res" / "resilience.csv", schema=frame.schema), check_exact=True
    )

    run = cli("pareto", str(split), "--points", "5", "--out", "pareto", "-q", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    frame = symbiose.pareto(symbiose.load(split), points=5)
    assert_frame_equal(frame, pl.read_csv(tmp_path / "pareto" / "pareto.csv", schema=frame.schema), check_exact=True)


def test_the_gil_is_released_while_solving(generated):
    inv = symbiose.load(generated / "territory")
    done = threading.Event()

    def solve():
        # Five solves: long enough to tell on an idle machine (about 0.2 s each).
        for _ in range(5):
            symbiose.optimize(inv)
        done.set()

    worker = threading.Thread(target=solve)
    started = last = time.perf_counter()
    longest_gap = 0.0
    worker.start()
    while not done.is_set():
        time.sleep(0.001)
        now = time.perf_counter()
        longest_gap = max(longest_gap, now - last)
        last = now
    worker.join()
    elapsed = time.perf_counter() - started
    # Python kept running beside the solve: with the GIL held, this loop
    # would stall for the whole solve (one gap about as long as the run).
    assert elapsed > 0.2, f"the solve took {elapsed:.3f} s, too short to tell"
    assert longest_gap < 0.5 * elapsed, (longest_gap, elapsed)
