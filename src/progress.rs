//! Progress of long work (sweeps, resilience, Pareto points, Shapley
//! coalitions), reported through a callback so that no stage of the
//! pipeline holds a terminal library: the command line draws bars
//! (`cli::progress`), a notebook or a test passes [`Silent`].
//!
//! Invariant: an implementation is `Sync`: rayon workers call
//! [`Progress::advance`] from several threads at once.

/// Receives the progress of one piece of long work at a time.
pub trait Progress: Sync {
    /// `total` steps of `what` (for instance "scenarios") are about to run.
    fn start(&self, _total: usize, _what: &str) {}
    /// `steps` more steps are done.
    fn advance(&self, _steps: usize) {}
    /// The work is over (done or failed).
    fn finish(&self) {}
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {}
