//! The caller's time budget, checked between attempts.

use std::time::{Duration, Instant};

/// A point in time after which no new attempt starts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline(Option<Instant>);

impl Deadline {
    /// `budget` from now (saturating: a huge budget means no deadline).
    pub fn after(budget: Duration) -> Self {
        Deadline(Instant::now().checked_add(budget))
    }

    /// Whether the budget is spent.
    pub fn passed(&self) -> bool {
        self.0.is_some_and(|end| Instant::now() >= end)
    }
}
