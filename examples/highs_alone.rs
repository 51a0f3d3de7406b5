//! HiGHS alone on an LP file: reads it with HiGHS's own reader and solves
//! it, with nothing of symbiose around, so that `optimize` can be compared
//! with the solver's own time on exactly the same problem
//! (`symbiose optimize --write-mps FILE`). Prints one line: read seconds,
//! run seconds, status, objective.
//!
//! Run: `cargo run --release --example highs_alone -- FILE.mps [simplex|ipm|choose] [THREADS]`

use std::ffi::CString;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: highs_alone FILE.mps [simplex|ipm|choose] [THREADS]");
        std::process::exit(2);
    };
    let solver = args.next().unwrap_or_else(|| "choose".to_string());
    let threads: i32 = args.next().map_or(1, |t| t.parse().expect("THREADS is a number"));
    let file = CString::new(path.clone()).expect("a file name without NUL");
    let option = |name: &str| CString::new(name).expect("option name");
    // SAFETY: one Highs instance, created here and destroyed at the end;
    // every string passed is NUL-terminated and outlives its call.
    unsafe {
        let highs = highs_sys::Highs_create();
        highs_sys::Highs_setBoolOptionValue(highs, option("output_flag").as_ptr(), 0);
        highs_sys::Highs_setIntOptionValue(highs, option("threads").as_ptr(), threads);
        let solver = option(&solver);
        highs_sys::Highs_setStringOptionValue(highs, option("solver").as_ptr(), solver.as_ptr());
        let started = Instant::now();
        let read = highs_sys::Highs_readModel(highs, file.as_ptr());
        let read_seconds = started.elapsed().as_secs_f64();
        if read == highs_sys::STATUS_ERROR {
            eprintln!("HiGHS could not read {path}");
            std::process::exit(1);
        }
        let started = Instant::now();
        highs_sys::Highs_run(highs);
        let run_seconds = started.elapsed().as_secs_f64();
        let status = highs_sys::Highs_getModelStatus(highs);
        let objective = highs_sys::Highs_getObjectiveValue(highs);
        println!("read {read_seconds:.3} s, run {run_seconds:.3} s, model status {status}, objective {objective}");
        highs_sys::Highs_destroy(highs);
    }
}
