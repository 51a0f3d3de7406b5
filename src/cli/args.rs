//! The command line's definitions: clap's commands and options, the
//! parsers that validate option values, and their conversion into the
//! library's types.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use symbiose::app::{self, Allocation, Extras, OptimizeConfig};
use symbiose::io::TableFormat;
use symbiose::io::{CsvDialect, InventorySource};
use symbiose::options;
use symbiose::solve::{LpSolver, Objective, SolveOptions};
use symbiose::study::Shard;

#[derive(Parser)]
#[command(
    name = "symbiose",
    version,
    about = "Industrial-symbiosis flow matching: match by-products, waste heat and spare capacity to the firms that need them, minimising negative externalities",
    after_help = "Exit codes: 0 ok, 1 failure (or another run is writing into the output folder), 2 invalid input, 3 infeasible, 4 unbounded, 5 time limit reached, 6 solver failure."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Check an inventory and report every problem at once
    #[command(
        after_help = "Example:\n  symbiose validate data/dunkirk\n\nWithout INVENTORY, checks the bundled Dunkirk example."
    )]
    Validate {
        /// Inventory folder (firms.csv, flows.csv, optional catalogue files); default: the bundled Dunkirk example
        inventory: Option<PathBuf>,
        #[command(flatten)]
        csv: CsvArgs,
    },
    /// Match supplies to demands and write the result tables
    #[command(
        after_help = "Examples:\n  symbiose optimize data/dunkirk --out results/\n  symbiose optimize --objective social --supplier-share 0.3 --out results/\n  symbiose optimize --report --out results/    # also results/report.html\n\nWithout INVENTORY, optimizes the bundled Dunkirk example. Writes summary.json, links.csv,\nflow_results.csv, firm_values.csv, territory_values.csv, territory_profile.json,\nfirms.geojson and links.geojson into --out (and report.html with --report).\n\nWith docs/model.md Part B files (slices.csv, profiles.csv, processes.csv, process_io.csv) or link\nfixed costs, also flow_slices.csv, link_slices.csv and services.csv (with slices),\nprocesses.csv and investments.csv (with processes or fixed costs; a MILP, see --mip-gap):\n  symbiose optimize data/union-roubaix --out union/\n  symbiose optimize data/dunkirk-seasonal --mip-gap 0.001 --out seasonal/"
    )]
    Optimize {
        /// Inventory folder or workbook (.xlsx); default: the bundled Dunkirk example
        inventory: Option<PathBuf>,
        #[command(flatten)]
        solve: SolveArgs,
        #[command(flatten)]
        results: ResultsArgs,
        #[command(flatten)]
        csv: CsvArgs,
    },
    /// Write a synthetic territory (firms.csv, flows.csv, distances.csv) for scale tests
    #[command(
        after_help = "Example:\n  symbiose generate --firms 20000 --seed 1 --out territory/\n  symbiose optimize territory/ --out results/\n\nFirms are clustered in industrial zones around a few poles in a square region centred on\nnorthern France (300 km wide for 20,000 firms, scaled with the square root of the number of\nfirms), about 5 flows per firm drawn from sector profiles over the default catalogue's\nresources and routes, lognormal quantities, temperatures for heat, one distance override\nper 200 firms. The same arguments give the same bytes."
    )]
    Generate {
        /// Number of firms (1 to 10,000,000)
        #[arg(long)]
        firms: usize,
        /// Seed of the random generator
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Side of the square region in km, at most 8,800 (default: 300 x sqrt(firms / 20000), at least 20)
        #[arg(long, value_parser = parse_positive_km)]
        region_km: Option<f64>,
        /// Output folder
        #[arg(long)]
        out: PathBuf,
        /// Replace firms.csv, flows.csv or distances.csv in --out even if symbiose did not write them
        #[arg(long)]
        force: bool,
    },
    /// Write the HTML report of a results folder
    #[command(
        after_help = "Examples:\n  symbiose report results/                      # writes results/report.html\n  symbiose report results/ --out dunkirk-report.html\n\nReads only the results folder that `symbiose optimize --out` wrote (summary.json,\nlinks.csv, flow_results.csv, firm_values.csv, territory_values.csv, or their .parquet\ntwins written with --format parquet) and writes one\nself-contained HTML page: summary figures, a Sankey diagram of the flows, a map of the\nfirms and links, value per firm and per externality category, the territory profile\nand the sortable tables. Opens offline; prints on A4."
    )]
    Report {
        /// Results folder written by `symbiose optimize --out`
        results_dir: PathBuf,
        /// HTML file to write; default: report.html in RESULTS_DIR
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run one scenario file: its overrides, removals and bans; writes the five tables
    #[command(
        after_help = "Example:\n  symbiose run scenarios/carbon.toml --out results/\n\nA scenario file (TOML):\n  inventory = \"bundled:dunkirk\"     # or a folder relative to the file\n  objective = \"social\"\n  supplier_share = 0.5\n  remove_firms = [\"dk6\"]\n  ban_routes = [\"landfill\"]\n  [set]\n  \"externality.co2e_t\" = 500.0\n  \"route_cost.landfill\" = 150.0\n\nParameters: externality.<category>, route_cost.<route>, transport_cost.<resource>,\nmax_distance.<resource>, flow_quantity.<flow_id>, flow_factor.<flow_id>, impact.<subject>.<category>,\ntax.<category> (EUR per impact unit charged to the firms), subsidy.<resource> (EUR per supply\nunit exchanged, paid to the firms), supplier_share.\n[[vary]] blocks are ignored by run (see sweep)."
    )]
    Run {
        /// Scenario file (TOML); its inventory, objective, supplier share, time limit and MIP gap apply
        scenario: PathBuf,
        #[command(flatten)]
        results: ResultsArgs,
    },
    /// Solve the grid of a scenario file's [[vary]] blocks in parallel; writes sweep.csv and sweep.svg
    #[command(
        after_help = "Example:\n  symbiose sweep scenarios/carbon.toml --out sweep/\n  symbiose sweep scenarios/carbon.toml --shard 2/4 --out shard2/   # one quarter of the grid\n  symbiose merge shard1/ shard2/ shard3/ shard4/ --out sweep/\n\n  [[vary]]\n  parameter = \"externality.co2e_t\"\n  values = [0, 100, 250, 500, 775]"
    )]
    Sweep {
        /// Scenario file (TOML) with [[vary]] blocks
        scenario: PathBuf,
        /// Output folder
        #[arg(long, default_value = "sweep")]
        out: PathBuf,
        /// Run only the I-th of N shares of the grid (1-based), e.g. 2/4
        #[arg(long, value_parser = Shard::parse)]
        shard: Option<Shard>,
        /// Keep each worker's HiGHS model between scenarios and change costs and bounds in place
        /// (faster; where optima tie, the solution picked may then depend on the order of solves)
        #[arg(long)]
        warm_start: bool,
        /// Run a grid (or a shard) of more than 1,000,000 scenarios
        #[arg(long)]
        allow_large_grid: bool,
        #[command(flatten)]
        work: WorkArgs,
    },
    /// Combine the outputs of sharded sweeps into one sweep.csv, sweep_meta.json and sweep.svg
    #[command(
        after_help = "Example:\n  symbiose merge shard1/ shard2/ --out sweep/\n\nThe shards must come from one scenario file, one inventory and one symbiose version\n(their sweep_meta.json records a hash of each); what differs is named."
    )]
    Merge {
        /// Shard output folders
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output folder
        #[arg(long)]
        out: PathBuf,
    },
    /// Remove each firm in turn and re-optimize: which firms the territory depends on
    #[command(after_help = "Example:\n  symbiose resilience data/dunkirk --out resilience/")]
    Resilience {
        /// Inventory folder or workbook (.xlsx); default: the bundled Dunkirk example
        inventory: Option<PathBuf>,
        #[command(flatten)]
        solve: SolveArgs,
        /// Output folder (resilience.csv)
        #[arg(long, default_value = "resilience")]
        out: PathBuf,
        #[command(flatten)]
        work: WorkArgs,
        #[command(flatten)]
        csv: CsvArgs,
    },
    /// The Pareto front of private cost against externalities (epsilon-constraint)
    #[command(after_help = "Example:\n  symbiose pareto data/dunkirk --points 20 --out pareto/")]
    Pareto {
        /// Inventory folder or workbook (.xlsx); default: the bundled Dunkirk example
        inventory: Option<PathBuf>,
        /// Number of epsilon steps between the two lexicographic optima (at least 2)
        #[arg(long, default_value_t = 20, value_parser = parse_points)]
        points: usize,
        /// Output folder (pareto.csv, pareto.svg, pareto_summary.json)
        #[arg(long, default_value = "pareto")]
        out: PathBuf,
        #[command(flatten)]
        work: WorkArgs,
        #[command(flatten)]
        csv: CsvArgs,
    },
    /// The ascending (firms first: objective private) and descending (territory first: objective
    /// externalities) optima side by side: who gains, who pays, what transfers would bridge them
    #[command(
        after_help = "Example:\n  symbiose schemes data/dunkirk --out schemes/\n\nWrites the descending optimum's results set (what `optimize --objective externalities` writes)\nand beside it schemes.json (both schemes' totals, the cost of the territory's view to the\nfirms, the territory value gained, the transfers budget), schemes_firms.csv (each firm's value\nin both schemes and the transfer that leaves it no worse off) and schemes_links.csv (every link\nused by either scheme, with its quantity in each)."
    )]
    Schemes {
        /// Inventory folder or workbook (.xlsx); default: the bundled Dunkirk example
        inventory: Option<PathBuf>,
        /// Share of each link's private surplus credited to the supplier (0 to 1)
        #[arg(long, default_value_t = 0.5, value_parser = parse_share)]
        supplier_share: f64,
        /// Stop each solve after this many seconds and report the best solution found
        #[arg(long, value_parser = parse_seconds)]
        time_limit: Option<f64>,
        /// Relative MIP gap at which the solver may stop when investments make the model a MILP (default: HiGHS's 1e-4)
        #[arg(long, value_parser = parse_gap)]
        mip_gap: Option<f64>,
        /// Relative slack the second stage of each lexicographic objective may spend on the first criterion
        #[arg(long, value_name = "SLACK", default_value_t = symbiose::solve::LEXICOGRAPHIC_TOLERANCE, value_parser = parse_gap)]
        lexicographic_slack: f64,
        /// Solve each scheme as one model instead of its independent parts apart
        #[arg(long)]
        no_decompose: bool,
        #[command(flatten)]
        results: ResultsArgs,
        #[command(flatten)]
        csv: CsvArgs,
    },
    /// The smallest tax or subsidy at which the firms' own optimum reaches a share of the
    /// externality value the territory's optimum avoids
    #[command(
        after_help = "Examples:\n  symbiose policy data/dunkirk --instrument tax.landfill_t --target 0.9 --out policy/\n  symbiose policy data/dunkirk --instrument tax.co2e_t --target 0.9 --range 0:5000 --out carbon/\n\nThe territory's optimum (objective externalities) avoids T* = M_base - M* of externality value.\nThe firms' optimum (objective private, the instrument in their costs) is solved on a grid of\n--points values over the range, then the first grid interval where T / T* crosses --target\nis bisected down to --tolerance. Default range: [0, 10 x v_k] for tax.<k> (v_k the category's\nexternality value), [0, 10 x u*] for subsidy.<r> (u* the largest externality value a link of r\navoids per supply unit). Writes policy.json (the value, or reachable: false; exit 0 either\nway), policy.csv (every point solved) and policy.svg (the curve and the target line)."
    )]
    Policy {
        /// Inventory folder or workbook (.xlsx); default: the bundled Dunkirk example
        inventory: Option<PathBuf>,
        /// The instrument: tax.<category> (EUR per impact unit) or subsidy.<resource> (EUR per supply unit exchanged)
        #[arg(long)]
        instrument: String,
        /// Share (0 to 1) of the territory optimum's avoided externality value the firms' optimum must avoid
        #[arg(long, value_parser = parse_share)]
        target: f64,
        /// Instrument values scanned, LO:HI with 0 <= LO < HI (default: see below)
        #[arg(long, value_name = "LO:HI", value_parser = parse_range)]
        range: Option<(f64, f64)>,
        /// Grid points over the range before the bisection (at least 2)
        #[arg(long, default_value_t = symbiose::study::DEFAULT_POINTS, value_parser = parse_points)]
        points: usize,
        /// Width of the final bracket, in the instrument's unit (default: the range's width / 1000)
        #[arg(long, value_parser = parse_tolerance)]
        tolerance: Option<f64>,
        /// Stop each solve after this many seconds and use the best solution found
        #[arg(long, value_parser = parse_seconds)]
        time_limit: Option<f64>,
        /// Relative MIP gap at which the solver may stop when investments make the model a MILP (default: HiGHS's 1e-4)
        #[arg(long, value_parser = parse_gap)]
        mip_gap: Option<f64>,
        /// Relative slack the second stage of each lexicographic objective may spend on the first criterion
        #[arg(long, value_name = "SLACK", default_value_t = symbiose::solve::LEXICOGRAPHIC_TOLERANCE, value_parser = parse_gap)]
        lexicographic_slack: f64,
        /// Output folder (policy.json, policy.csv, policy.svg)
        #[arg(long, default_value = "policy")]
        out: PathBuf,
        #[command(flatten)]
        work: WorkArgs,
        #[command(flatten)]
        csv: CsvArgs,
    },
    /// Compare two results folders: per firm, per externality category and per link, B minus A
    #[command(
        after_help = "Examples:\n  symbiose optimize data/dunkirk --objective private --out private/\n  symbiose optimize data/dunkirk --out territory/\n  symbiose compare private/ territory/ --out compare/\n\nWrites compare_firms.csv, compare_territory.csv and compare_links.csv. Removing a firm or\nchanging a quantity changes the baseline: values are captured against each run's own\nbaseline, so both the values and the absolute costs are compared."
    )]
    Compare {
        /// Results folder A (written by optimize, run or schemes)
        a: PathBuf,
        /// Results folder B
        b: PathBuf,
        /// Output folder
        #[arg(long, default_value = "compare")]
        out: PathBuf,
        /// Print nothing but warnings and errors
        #[arg(short, long)]
        quiet: bool,
    },
    /// Write the default catalogue as editable CSV files
    #[command(
        after_help = "Example:\n  symbiose catalogue --out my-catalogue/\n\nCopy any of these files into an inventory folder and edit it: its rows override the\ndefault rows with the same key and add new keys. Files of these names in --out that symbiose\ndid not write, or that were edited since, are not replaced without --force."
    )]
    Catalogue {
        /// Output folder
        #[arg(long)]
        out: PathBuf,
        /// Replace catalogue files in --out even if symbiose did not write them (or they were edited since)
        #[arg(long)]
        force: bool,
    },
    /// Which exchanges hold up: over every solution within a slack of the optimum, the least and
    /// the most each candidate link carries and each firm's value
    #[command(
        after_help = "Examples:\n  symbiose robustness data/dunkirk --out robust/\n  symbiose robustness data/dunkirk --objective social --slack 0.05 --out robust/\n\nOver every solution whose first criterion (M for externalities, C for private, C + M for\nsocial) is within SLACK x max(1, |z*|) of its optimum z*: the least and the most supply units\neach candidate link can carry, and the least and the most value each firm can capture\n(docs/model.md C2, D10). Writes the optimum's results set (what optimize writes) plus\nlink_ranges.csv (status indispensable, optional or unused), firm_ranges.csv and\nrobustness.json. The same bytes whatever the threads. Inventories with processes or\ninvestments are refused (a limit: their model is not an LP of the links alone)."
    )]
    Robustness {
        /// Inventory folder or workbook (.xlsx); default: the bundled Dunkirk example
        inventory: Option<PathBuf>,
        /// Relative slack on the first criterion: solutions with z <= z* + SLACK x max(1, |z*|)
        #[arg(long, default_value_t = 0.01, value_parser = parse_slack)]
        slack: f64,
        /// Output folder
        #[arg(long)]
        out: PathBuf,
        /// Also write report.html into the output folder
        #[arg(long)]
        report: bool,
        #[command(flatten)]
        solve: SolveArgs,
        #[command(flatten)]
        work: WorkArgs,
        #[command(flatten)]
        csv: CsvArgs,
    },
    /// Monte Carlo over the inventory's uncertainty.csv: N samples, each solved as a what-if of the base
    #[command(
        after_help = "Examples:\n  symbiose uncertainty data/dunkirk --samples 1000 --seed 1 --out mc/\n  symbiose uncertainty data/dunkirk --samples 1000 --shard 2/3 --out mc2/   # samples 1, 4, 7, ...\n  symbiose merge mc1/ mc2/ mc3/ --out mc/\n\nuncertainty.csv, one row per uncertain parameter (docs/model.md D9):\n  parameter,distribution,low,mode,high,mean,sd,median,gsd\n  flow_quantity.am_bf_slag,triangular,1700000,1960000,2100000,,,,\n  externality.co2e_t,uniform,100,,250,,,,\n  flow_factor.ecocem_binder,normal,,,,1,0.1,,\n  impact.route:landfill.co2e_t,lognormal,,,,,,0.02,1.5\n\nParameters: externality.<category>, route_cost.<route>, transport_cost.<resource>,\nflow_quantity.<flow_id>, flow_factor.<flow_id>, impact.<subject>.<category>. The normal is\ntruncated at zero. Writes the results set of the deterministic base (what optimize writes)\nplus samples.csv, link_probability.csv, value_quantiles.csv, and sample_values.csv,\nsample_links.csv and uncertainty_meta.json (what merge needs). The same seed gives the\nsame bytes whatever the threads or shards."
    )]
    Uncertainty {
        /// Inventory folder or workbook (.xlsx) with an uncertainty.csv (sheet); default: the bundled Dunkirk example
        inventory: Option<PathBuf>,
        /// Number of samples (1 to 1,000,000)
        #[arg(long)]
        samples: usize,
        /// Seed of the samples' random streams
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Solve only the I-th of K shares of the samples (1-based), e.g. 2/3; `symbiose merge` puts them together
        #[arg(long, value_parser = Shard::parse)]
        shard: Option<Shard>,
        /// Output folder
        #[arg(long)]
        out: PathBuf,
        /// Also write report.html (of the deterministic base) into the output folder
        #[arg(long)]
        report: bool,
        #[command(flatten)]
        solve: SolveArgs,
        #[command(flatten)]
        work: WorkArgs,
        #[command(flatten)]
        csv: CsvArgs,
    },
}

/// How a solve runs: `optimize` and `resilience` (a scenario file sets the
/// same values for `run` and `sweep`).
#[derive(clap::Args, Clone)]
pub struct SolveArgs {
    /// What to minimise
    #[arg(long, value_enum, default_value_t = ObjectiveArg::Externalities)]
    pub objective: ObjectiveArg,
    /// Share of each link's private surplus credited to the supplier (0 to 1)
    #[arg(long, default_value_t = 0.5, value_parser = parse_share)]
    pub supplier_share: f64,
    /// Stop the solver after this many seconds and report the best solution found
    #[arg(long, value_parser = parse_seconds)]
    pub time_limit: Option<f64>,
    /// Relative MIP gap at which the solver may stop when investments (fixed costs) make the model a MILP (default: HiGHS's 1e-4)
    #[arg(long, value_parser = parse_gap)]
    pub mip_gap: Option<f64>,
    /// Relative slack the second stage of a lexicographic objective may spend on the first
    /// criterion (docs/model.md A3: value <= v* + SLACK * max(1, |v*|)); 0 keeps it on the optimum
    #[arg(long, value_name = "SLACK", default_value_t = symbiose::solve::LEXICOGRAPHIC_TOLERANCE, value_parser = parse_gap)]
    pub lexicographic_slack: f64,
    /// HiGHS's LP algorithm (default: HiGHS's own choice, dual simplex for these LPs)
    #[arg(long, value_enum)]
    pub solver: Option<SolverArg>,
    /// Solve the territory as one model instead of its independent parts apart, in parallel (for comparison)
    #[arg(long)]
    pub no_decompose: bool,
}

impl SolveArgs {
    pub fn options(&self) -> SolveOptions {
        SolveOptions {
            objective: self.objective.into(),
            time_limit_seconds: self.time_limit,
            mip_gap: self.mip_gap,
            solver: self.solver.map(LpSolver::from),
            lexicographic_slack: self.lexicographic_slack,
            decompose: !self.no_decompose,
            ..SolveOptions::default()
        }
    }
}

/// What a run that writes the result tables writes and prints: `optimize` and `run`.
#[derive(clap::Args, Clone)]
pub struct ResultsArgs {
    /// Output folder
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Format of the result tables (summary.json stays JSON)
    #[arg(long, value_enum, default_value_t = FormatArg::Csv)]
    pub format: FormatArg,
    /// Also write report.html (the HTML report) into the output folder
    #[arg(long)]
    pub report: bool,
    /// Fair shares: `shapley` adds each firm's Shapley value to firm_values.csv
    #[arg(long, value_enum, default_value_t = AllocationArg::Equal)]
    pub allocation: AllocationArg,
    /// Permutations sampled for Shapley values when more than 12 firms take part (at least 2)
    #[arg(long, default_value_t = 200, value_parser = parse_samples)]
    pub samples: usize,
    /// Keep only the K cheapest candidate links of each supply (net social cost per unit);
    /// an approximation: the optimum found may be worse than the true one. Off by default
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_candidates: Option<u64>,
    /// Also write the first-stage LP to FILE with HiGHS's writer (LP format for a .lp name, MPS for any other), to time HiGHS alone on it
    #[arg(long, value_name = "FILE")]
    pub write_mps: Option<PathBuf>,
    /// How many links to list in the printed summary (0: none)
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    /// Print the time spent in each stage (load, candidates, model, HiGHS, values, files) on stderr
    #[arg(short = 'v', long, visible_alias = "verbose")]
    pub timings: bool,
    /// Print nothing but warnings and errors
    #[arg(short, long)]
    pub quiet: bool,
}

impl ResultsArgs {
    pub fn extras(&self) -> Extras {
        Extras {
            allocation: allocation(self.allocation, self.samples),
            write_report: self.report,
            format: match self.format {
                FormatArg::Csv => TableFormat::Csv,
                FormatArg::Parquet => TableFormat::Parquet,
                FormatArg::Xlsx => TableFormat::Xlsx,
            },
            max_candidates: self.max_candidates.map(|k| usize::try_from(k).unwrap_or(usize::MAX)),
            write_mps: self.write_mps.clone(),
            inputs: Vec::new(),
            quiet: self.quiet,
        }
    }

    /// `optimize`'s configuration: these options with the solve's.
    pub fn optimize_config(&self, source: InventorySource, solve: &SolveArgs, csv: CsvArgs) -> OptimizeConfig {
        OptimizeConfig {
            source,
            objective: solve.objective.into(),
            supplier_share: solve.supplier_share,
            time_limit_seconds: solve.time_limit,
            threads: None,
            mip_gap: solve.mip_gap,
            lexicographic_slack: solve.lexicographic_slack,
            decompose: !solve.no_decompose,
            out: self.out.clone(),
            dialect: csv.dialect(),
            solver: solve.solver.map(LpSolver::from),
            extras: self.extras(),
        }
    }
}

/// Many solves in parallel: `sweep`, `resilience` and `pareto`.
#[derive(clap::Args, Clone, Copy)]
pub struct WorkArgs {
    /// Worker threads (default: RAYON_NUM_THREADS or the number of cores; at most 4 per core); one HiGHS thread per solve
    #[arg(long, value_parser = parse_threads)]
    pub threads: Option<usize>,
    /// Print nothing but warnings and errors (no progress bar)
    #[arg(short, long)]
    pub quiet: bool,
}

/// How the inventory's CSV files are written (detected when not given).
#[derive(clap::Args, Clone, Copy)]
pub struct CsvArgs {
    /// Column separator of the inventory's CSV files: ',' or ';' (default: detected from each header)
    #[arg(long, value_parser = parse_separator)]
    pub sep: Option<u8>,
    /// Numbers are written with a decimal comma, as French Excel does (default: with ';' separators)
    #[arg(long)]
    pub decimal_comma: bool,
}

impl CsvArgs {
    pub fn dialect(self) -> CsvDialect {
        CsvDialect {
            separator: self.sep,
            decimal_comma: self.decimal_comma.then_some(true),
        }
    }
}

pub fn parse_separator(text: &str) -> Result<u8, String> {
    match text {
        "," => Ok(b','),
        ";" => Ok(b';'),
        _ => Err(format!("{text:?} is not a supported separator: use ',' or ';'")),
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// CSV files
    Csv,
    /// Parquet files, readable by pandas and polars
    Parquet,
    /// CSV files, and results.xlsx with every table as a sheet
    Xlsx,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SolverArg {
    /// HiGHS chooses (dual simplex for LPs)
    Auto,
    /// Dual simplex
    Simplex,
    /// Interior point, then crossover
    Ipm,
}

impl From<SolverArg> for LpSolver {
    fn from(value: SolverArg) -> Self {
        match value {
            SolverArg::Auto => LpSolver::Auto,
            SolverArg::Simplex => LpSolver::Simplex,
            SolverArg::Ipm => LpSolver::Ipm,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum AllocationArg {
    /// Supplier share only (docs/model.md A4)
    Equal,
    /// Also the Shapley value of each firm
    Shapley,
}

pub fn allocation(arg: AllocationArg, samples: usize) -> Allocation {
    match arg {
        AllocationArg::Equal => Allocation::Equal,
        AllocationArg::Shapley => Allocation::Shapley { samples },
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ObjectiveArg {
    /// Minimise monetised externalities, then private cost (the territory's view)
    Externalities,
    /// Minimise private cost, then externalities (the firms' market view)
    Private,
    /// Minimise private cost plus monetised externalities
    Social,
}

impl From<ObjectiveArg> for Objective {
    fn from(value: ObjectiveArg) -> Self {
        match value {
            ObjectiveArg::Externalities => Objective::Externalities,
            ObjectiveArg::Private => Objective::Private,
            ObjectiveArg::Social => Objective::Social,
        }
    }
}

pub fn parse_share(text: &str) -> Result<f64, String> {
    options::SHARE_CHECK.parse(text)
}

pub fn parse_slack(text: &str) -> Result<f64, String> {
    options::SLACK_CHECK.parse(text)
}

pub fn parse_gap(text: &str) -> Result<f64, String> {
    options::GAP_CHECK.parse(text)
}

pub fn parse_positive_km(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value > 0.0 => Ok(value),
        _ => Err(format!("{text:?} is not a distance in km > 0")),
    }
}

pub fn parse_seconds(text: &str) -> Result<f64, String> {
    options::SECONDS_CHECK.parse(text)
}

pub fn parse_samples(text: &str) -> Result<usize, String> {
    options::SAMPLES_CHECK.parse(text)
}

pub fn parse_points(text: &str) -> Result<usize, String> {
    options::POINTS_CHECK.parse(text)
}

pub fn parse_range(text: &str) -> Result<(f64, f64), String> {
    symbiose::study::parse_range(text)
}

pub fn parse_tolerance(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value > 0.0 => Ok(value),
        _ => Err(format!("{text:?} is not a tolerance > 0 (in the instrument's unit)")),
    }
}

pub fn parse_threads(text: &str) -> Result<usize, String> {
    options::THREADS_CHECK.parse(text)
}

/// `--threads` capped (app::capped_threads), the warning printed.
pub fn threads(requested: Option<usize>) -> Option<usize> {
    let (threads, warning) = app::capped_threads(requested);
    if let Some(warning) = warning {
        eprintln!("warning: {warning}");
    }
    threads
}

pub fn source(inventory: Option<PathBuf>) -> InventorySource {
    match inventory {
        Some(path) => InventorySource::from_path(path),
        None => InventorySource::BundledDunkirk,
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// Every option and argument of every command says what it is for in `--help`.
    #[test]
    fn every_option_has_help_text() {
        let cli = Cli::command();
        let mut missing = Vec::new();
        let mut n_checked = 0;
        for command in cli.get_subcommands() {
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                n_checked += 1;
                if arg.get_help().is_none_or(|help| help.to_string().trim().is_empty()) {
                    missing.push(format!("{} {}", command.get_name(), id));
                }
            }
        }
        assert!(missing.is_empty(), "options without help text: {missing:?}");
        assert!(n_checked > 50, "only {n_checked} options checked");
    }

    /// The options that apply to several commands are taken the same way by each.
    #[test]
    fn shared_options_are_taken_by_every_command_they_apply_to() {
        let cli = Cli::command();
        let takes = |name: &str, option: &str| {
            let command = cli.find_subcommand(name).unwrap();
            command.get_arguments().any(|arg| arg.get_long() == Some(option))
        };
        for command in ["optimize", "run"] {
            for option in [
                "out",
                "format",
                "report",
                "allocation",
                "samples",
                "top",
                "timings",
                "quiet",
                "max-candidates",
                "write-mps",
            ] {
                assert!(takes(command, option), "{command} --{option}");
            }
        }
        for command in ["optimize", "resilience"] {
            for option in [
                "objective",
                "supplier-share",
                "time-limit",
                "mip-gap",
                "lexicographic-slack",
                "solver",
            ] {
                assert!(takes(command, option), "{command} --{option}");
            }
        }
        for command in ["validate", "optimize", "resilience", "pareto"] {
            for option in ["sep", "decimal-comma"] {
                assert!(takes(command, option), "{command} --{option}");
            }
        }
        for command in ["sweep", "resilience", "pareto"] {
            for option in ["threads", "quiet"] {
                assert!(takes(command, option), "{command} --{option}");
            }
        }
    }

    #[test]
    fn option_values_are_checked_by_the_shared_checks() {
        assert!(parse_share("1.5").unwrap_err().contains(symbiose::options::SHARE));
        assert!(parse_points("1").unwrap_err().contains("number of points >= 2"));
        assert!(parse_samples("1").unwrap_err().contains("at least two samples"));
        assert_eq!(parse_seconds("2.5"), Ok(2.5));
    }
}
