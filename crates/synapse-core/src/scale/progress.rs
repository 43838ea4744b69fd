//! Progress of long out-of-core work, read from another thread (the JavaScript side polls it
//! for its progress bar) and a flag that asks the work to stop between blocks.
use crate::error::{CoreError, Result};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// Shared progress: the current stage's name, units done and units in total.
#[derive(Debug, Default)]
pub struct Progress {
    stage: Mutex<String>,
    done: AtomicU64,
    total: AtomicU64,
    cancel: AtomicBool,
}

impl Progress {
    /// A fresh tracker.
    pub fn new() -> Progress {
        Progress::default()
    }

    /// Enter `stage` with `total` units, `done` of them already done (resumed work).
    pub fn start(&self, stage: &str, done: u64, total: u64) {
        if let Ok(mut s) = self.stage.lock() {
            *s = stage.to_string();
        }
        self.total.store(total, Ordering::Relaxed);
        self.done.store(done, Ordering::Relaxed);
    }

    /// Count `n` more units done.
    pub fn add(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }

    /// `(stage, done, total)`.
    pub fn snapshot(&self) -> (String, u64, u64) {
        let stage = self.stage.lock().map(|s| s.clone()).unwrap_or_default();
        (
            stage,
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }

    /// Ask the work to stop at its next check.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// `Err(Cancelled)` once [`Progress::cancel`] was called.
    pub fn check(&self) -> Result<()> {
        if self.cancel.load(Ordering::Relaxed) {
            Err(CoreError::Cancelled)
        } else {
            Ok(())
        }
    }
}
