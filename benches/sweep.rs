//! Scenarios per second of a 200-scenario carbon-value sweep on the bundled
//! Dunkirk example (benches/sweep200.toml), at 1 and 2 threads, with and
//! without warm start. Run: `cargo bench --bench sweep`; criterion prints
//! the median time per sweep and the throughput in scenarios per second.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use symbiose::progress::Silent;
use symbiose::study::{load_study, run_sweep};

fn sweep(c: &mut Criterion) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("benches")
        .join("sweep200.toml");
    let study = load_study(&path).expect("benches/sweep200.toml loads");
    let mut group = c.benchmark_group("sweep200");
    group.throughput(Throughput::Elements(study.n_scenarios() as u64));
    group.sample_size(20);
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        for warm_start in [false, true] {
            let id = BenchmarkId::new(if warm_start { "warm" } else { "cold" }, format!("{threads}-threads"));
            group.bench_with_input(id, &warm_start, |b, &warm_start| {
                b.iter(|| pool.install(|| run_sweep(&study, None, warm_start, &Silent).expect("sweep solves")))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, sweep);
criterion_main!(benches);
