"""symbiose from Python: the same Rust library as the command line.

    import symbiose
    inv = symbiose.load("data/dunkirk")          # a folder, a workbook, or symbiose.bundled("dunkirk")
    res = symbiose.optimize(inv, objective="externalities", supplier_share=0.5)
    res.summary                                   # dict, the fields of summary.json
    res.links, res.flows, res.firms, res.territory   # polars DataFrames of the A5 tables
    res.write("results/")                         # the same files as the command line

Tables cross from Rust as Arrow (the Arrow C stream interface), never as
CSV text. Invalid input raises :class:`InputError`, whose ``.errors``
lists every problem with its file, line and column; an infeasible or
unbounded LP, a time limit without a solution and a solver failure raise
their own types. The GIL is released while solving.
"""

from __future__ import annotations

import json
import os
from typing import Any, Mapping, Optional, Union

import polars as pl

from . import _symbiose as _core
from ._symbiose import (
    InfeasibleError,
    InputError,
    LimitError,
    OutputError,
    SolverError,
    SymbioseError,
    TimeLimitError,
    UnboundedError,
)

__version__ = _core.__version__

__all__ = [
    "Inventory",
    "Results",
    "load",
    "bundled",
    "optimize",
    "sweep",
    "resilience",
    "pareto",
    "SymbioseError",
    "InputError",
    "InfeasibleError",
    "UnboundedError",
    "TimeLimitError",
    "SolverError",
    "LimitError",
    "OutputError",
]

# The tables an inventory may hold (docs/model.md A1 and Part B), as
# Inventory.from_frames names them.
_TABLES = (
    "firms",
    "flows",
    "distances",
    "resources",
    "routes",
    "substitutions",
    "impacts",
    "externalities",
    "slices",
    "profiles",
    "processes",
    "process_io",
    "uncertainty",
)

PathLike = Union[str, "os.PathLike[str]"]


def _frame(table: Any) -> pl.DataFrame:
    """A Rust table (Arrow C stream) as a polars DataFrame."""
    return pl.DataFrame(table)


class Inventory:
    """A validated flow inventory (firms, flows, catalogue, Part B tables)."""

    def __init__(self, core: Any) -> None:
        self._core = core

    @classmethod
    def from_frames(cls, firms: Any, flows: Any, **tables: Any) -> "Inventory":
        """An inventory from data frames (pandas or polars), one per table.

        ``firms`` and ``flows`` are required; the other tables (``distances``,
        ``resources``, ``routes``, ``substitutions``, ``impacts``,
        ``externalities``, ``slices``, ``profiles``, ``processes``,
        ``process_io``) are optional and override the default catalogue as a
        CSV folder's files do. Columns and values are those of the CSV
        files (docs/model.md A1); every problem is reported at once, in an
        :class:`InputError` whose lines count as in the CSV file (header =
        line 1, first row = line 2).
        """
        unknown = sorted(set(tables) - set(_TABLES))
        if unknown:
            raise ValueError(
                f"unknown table(s) {', '.join(unknown)}: use {', '.join(_TABLES)}"
            )
        given = {"firms": firms, "flows": flows}
        given.update({name: frame for name, frame in tables.items() if frame is not None})
        return cls(_core.from_tables([_text_table(name, frame) for name, frame in given.items()]))

    def without(self, firms=(), routes=()) -> "Inventory":
        """The what-if without these firms (they leave the territory) and
        without these fallback routes (banned), as scenario files say
        ``remove_firms`` and ``ban_routes``."""
        return Inventory(self._core.without(list(firms), list(routes)))

    @property
    def warnings(self) -> list:
        """The loader's warnings, as the command line prints them."""
        return self._core.warnings

    @property
    def n_firms(self) -> int:
        return self._core.n_firms

    @property
    def n_flows(self) -> int:
        return self._core.n_flows

    def __repr__(self) -> str:
        return repr(self._core)


def _text_table(name: str, frame: Any):
    """(file name, header, rows of text cells) of one frame."""
    if frame is None:
        raise ValueError(f"table {name} is None")
    if not isinstance(frame, pl.DataFrame):
        frame = pl.from_pandas(frame)
    text = frame.select(pl.all().cast(pl.String))
    return (f"{name}.csv", list(text.columns), [list(row) for row in text.rows()])


def load(path: PathLike) -> Inventory:
    """A CSV folder or an .xlsx workbook, checked as the command line checks it."""
    return Inventory(_core.load(os.fspath(path)))


def bundled(name: str = "dunkirk") -> Inventory:
    """An inventory embedded in the library: ``"dunkirk"``."""
    if name != "dunkirk":
        raise ValueError(f"no bundled inventory {name!r}: the bundled example is 'dunkirk'")
    return Inventory(_core.bundled_dunkirk())


class Results:
    """One optimum: summary.json's figures and the result tables."""

    def __init__(self, core: Any) -> None:
        self._core = core
        self.summary: dict = json.loads(core.summary_json)
        self.tables: dict = {name: _frame(core.table(name)) for name in core.table_names}

    @property
    def links(self) -> pl.DataFrame:
        """links.csv: one row per link used."""
        return self.tables["links"]

    @property
    def flows(self) -> pl.DataFrame:
        """flow_results.csv."""
        return self.tables["flow_results"]

    @property
    def firms(self) -> pl.DataFrame:
        """firm_values.csv."""
        return self.tables["firm_values"]

    @property
    def territory(self) -> pl.DataFrame:
        """territory_values.csv."""
        return self.tables["territory_values"]

    def write(self, out: PathLike, format: str = "csv", report: bool = False) -> None:
        """The command line's results set in ``out`` (atomic, locked), with
        report.html when ``report``. The inventory is solved again with the
        same options, which gives the same bytes."""
        self._core.write(os.fspath(out), format, report)

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"<symbiose.Results {s.get('objective')} {s.get('status')}: "
            f"{s.get('n_links')} links, firm value {s.get('firm_value_eur'):,.0f} EUR/yr, "
            f"territory value {s.get('territory_value_eur'):,.0f} EUR/yr>"
        )


def optimize(
    inventory: Inventory,
    objective: str = "externalities",
    supplier_share: float = 0.5,
    time_limit: Optional[float] = None,
    threads: Optional[int] = None,
    mip_gap: Optional[float] = None,
    lexicographic_slack: Optional[float] = None,
    decompose: bool = True,
) -> Results:
    """Solve and value, as ``symbiose optimize`` does (in memory)."""
    return Results(
        _core.optimize(
            inventory._core,
            objective,
            supplier_share,
            time_limit,
            threads,
            mip_gap,
            lexicographic_slack,
            decompose,
        )
    )


def sweep(scenario: PathLike, threads: Optional[int] = None) -> pl.DataFrame:
    """A scenario file's grid, solved in parallel: the rows of sweep.csv."""
    return _frame(_core.sweep(os.fspath(scenario), threads))


def resilience(
    inventory: Inventory,
    objective: str = "externalities",
    supplier_share: float = 0.5,
    threads: Optional[int] = None,
) -> pl.DataFrame:
    """Each firm removed in turn: the rows of resilience.csv."""
    return _frame(_core.resilience(inventory._core, objective, supplier_share, threads))


def pareto(inventory: Inventory, points: int = 20, threads: Optional[int] = None) -> pl.DataFrame:
    """The private cost against externality front: the rows of pareto.csv."""
    return _frame(_core.pareto(inventory._core, points, threads))
