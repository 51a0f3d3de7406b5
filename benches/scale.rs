//! Each stage of `optimize` on generated territories of about 1,000, 10,000
//! and 100,000 flows (200, 2,000 and 20,000 firms, `symbiose generate
//! --seed 1`), and HiGHS alone on the first-stage LP that `optimize
//! --write-mps` exports:
//!
//! - `load`: read and validate the CSV folder;
//! - `candidates`: candidate links (spatial index, rayon);
//! - `build/columns` and `build/good_lp`: the first-stage model handed to
//!   HiGHS, column-wise (what `solve` uses) or through good_lp's expressions;
//! - `solve`: `solve::solve` on prebuilt links, both stages of the default
//!   lexicographic objective (model building included);
//! - `highs_alone`: `Highs_run` on the model HiGHS read from the MPS file
//!   (reading not timed), one thread like `optimize`;
//! - `optimize`: the whole run (read, validate, candidates, build, solve,
//!   values, tables, files written).
//!
//! Run: `cargo bench --bench scale` (about 30 minutes on 2 cores, most of
//! it at the largest size); `SYMBIOSE_BENCH_FIRMS=200,2000` runs only the
//! given sizes. The largest size takes 10 samples of one iteration each.

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, SamplingMode};
use symbiose::app::{optimize, Extras, OptimizeConfig};
use symbiose::candidates::candidate_links;
use symbiose::generate::{generate, GenerateConfig};
use symbiose::io::{load_inventory, InventorySource};
use symbiose::solve::{first_stage_model, solve, ModelBuilder, Objective, SolveOptions};

fn sizes() -> Vec<usize> {
    std::env::var("SYMBIOSE_BENCH_FIRMS")
        .ok()
        .map(|list| list.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![200, 2_000, 20_000])
}

/// Generates the territory of `n_firms` firms once into the bench's temporary folder.
fn territory(n_firms: usize) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("scale-{n_firms}"));
    let generated = generate(&GenerateConfig {
        n_firms,
        seed: 1,
        region_km: None,
    });
    std::fs::create_dir_all(&dir).expect("bench folder");
    for (name, bytes) in &generated.files {
        std::fs::write(dir.join(name), bytes).expect("territory written");
    }
    dir
}

fn option(name: &str) -> CString {
    CString::new(name).expect("option name")
}

/// A Highs instance, destroyed when dropped.
struct Highs(*mut std::ffi::c_void);

impl Drop for Highs {
    fn drop(&mut self) {
        // SAFETY: the instance was created by Highs_create and is destroyed once.
        unsafe { highs_sys::Highs_destroy(self.0) }
    }
}

/// A Highs instance that has read `mps`, quiet, one thread.
fn highs_from_mps(mps: &Path) -> Highs {
    let file = CString::new(mps.display().to_string()).expect("path");
    // SAFETY: a new Highs instance; NUL-terminated strings outlive each call.
    unsafe {
        let highs = highs_sys::Highs_create();
        highs_sys::Highs_setBoolOptionValue(highs, option("output_flag").as_ptr(), 0);
        highs_sys::Highs_setIntOptionValue(highs, option("threads").as_ptr(), 1);
        assert_ne!(
            highs_sys::Highs_readModel(highs, file.as_ptr()),
            highs_sys::STATUS_ERROR,
            "HiGHS reads {}",
            mps.display()
        );
        Highs(highs)
    }
}

fn scale(c: &mut Criterion) {
    for n_firms in sizes() {
        let dir = territory(n_firms);
        let source = InventorySource::Folder(dir.clone());
        let inventory = load_inventory(&source).expect("the territory loads").inventory;
        let links = candidate_links(&inventory);
        let options = SolveOptions {
            objective: Objective::Externalities,
            ..SolveOptions::default()
        };
        let mps = dir.join("first_stage.mps");
        symbiose::solve::write_first_stage(&inventory, &links, &options, &mps).expect("MPS written");
        let label = format!(
            "{n_firms}-firms-{}-flows-{}-links",
            inventory.flows().len(),
            links.len()
        );
        eprintln!("scale: {label}");

        let mut group = c.benchmark_group("scale");
        group.sampling_mode(SamplingMode::Flat);
        if n_firms >= 10_000 {
            group.sample_size(10);
            group.warm_up_time(Duration::from_millis(1));
            group.measurement_time(Duration::from_secs(1));
        } else if n_firms >= 1_000 {
            group.sample_size(10);
        }
        group.bench_function(BenchmarkId::new("load", &label), |b| {
            b.iter(|| load_inventory(&source).expect("loads"))
        });
        group.bench_function(BenchmarkId::new("candidates", &label), |b| {
            b.iter(|| candidate_links(&inventory))
        });
        for (name, builder) in [
            ("build/columns", ModelBuilder::Columns),
            ("build/good_lp", ModelBuilder::GoodLp),
        ] {
            group.bench_function(BenchmarkId::new(name, &label), |b| {
                b.iter(|| first_stage_model(&inventory, &links, &options, builder).expect("builds"))
            });
        }
        group.bench_function(BenchmarkId::new("solve", &label), |b| {
            b.iter(|| solve(&inventory, &links, &options).expect("solves"))
        });
        group.bench_function(BenchmarkId::new("highs_alone", &label), |b| {
            b.iter_batched(
                || highs_from_mps(&mps),
                |highs| {
                    // SAFETY: a live instance from highs_from_mps.
                    unsafe {
                        highs_sys::Highs_run(highs.0);
                        assert_eq!(highs_sys::Highs_getModelStatus(highs.0), 7, "optimal");
                    }
                    highs // dropped, so destroyed, outside the timing
                },
                BatchSize::PerIteration,
            )
        });
        let out = dir.join("results");
        let config = OptimizeConfig {
            source: source.clone(),
            objective: Objective::Externalities,
            supplier_share: 0.5,
            time_limit_seconds: None,
            threads: None,
            out: out.clone(),
            solver: None,
            mip_gap: None,
            lexicographic_slack: symbiose::solve::LEXICOGRAPHIC_TOLERANCE,
            decompose: true,
            dialect: symbiose::io::CsvDialect::default(),
            extras: Extras::default(),
        };
        group.bench_function(BenchmarkId::new("optimize", &label), |b| {
            b.iter(|| optimize(&config).expect("optimizes"))
        });
        group.finish();
    }
}

criterion_group!(benches, scale);
criterion_main!(benches);
