//! Progress bars on stderr for the command line: the [`Progress`]
//! callback of the pipeline drawn with indicatif (hidden with `-q`).

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

use crate::progress::Progress;

/// One bar at a time, replaced by each [`Progress::start`].
pub struct Bars {
    quiet: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Bars {
    pub fn new(quiet: bool) -> Bars {
        Bars {
            quiet,
            bar: Mutex::new(None),
        }
    }

    fn with_bar(&self, f: impl FnOnce(&ProgressBar)) {
        if let Ok(guard) = self.bar.lock() {
            if let Some(bar) = guard.as_ref() {
                f(bar);
            }
        }
    }
}

impl Progress for Bars {
    fn start(&self, total: usize, what: &str) {
        let bar = if self.quiet {
            ProgressBar::hidden()
        } else {
            let bar = ProgressBar::new(total as u64);
            if let Ok(style) =
                ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len}, {elapsed} elapsed, ETA {eta}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(what.to_string());
            bar
        };
        if let Ok(mut guard) = self.bar.lock() {
            if let Some(old) = guard.replace(bar) {
                old.finish_and_clear();
            }
        }
    }

    fn advance(&self, steps: usize) {
        self.with_bar(|bar| bar.inc(steps as u64));
    }

    fn finish(&self) {
        if let Ok(mut guard) = self.bar.lock() {
            if let Some(bar) = guard.take() {
                bar.finish_and_clear();
            }
        }
    }
}
