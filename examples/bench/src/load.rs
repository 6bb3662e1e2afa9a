//! A closed-loop load generator: `concurrency` workers each make one call after another until
//! the duration is over, recording every latency. Used by the `bench-load` program.

use std::future::Future;
use std::time::{Duration, Instant};

/// What a load run measured.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// Successful calls.
    pub calls: u64,
    /// Failed calls.
    pub errors: u64,
    /// The first error seen, if any.
    pub first_error: Option<String>,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Latencies of successful calls, sorted, in microseconds.
    latencies_us: Vec<u32>,
}

impl LoadReport {
    /// Successful calls per second.
    pub fn calls_per_sec(&self) -> f64 {
        self.calls as f64 / self.elapsed.as_secs_f64()
    }

    /// The `q` quantile (0.0 to 1.0) of the latencies of successful calls.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.latencies_us.is_empty() {
            return Duration::ZERO;
        }
        let index = ((self.latencies_us.len() - 1) as f64 * q).round() as usize;
        Duration::from_micros(u64::from(self.latencies_us[index]))
    }

    /// One line: calls/s, p50, p99, p99.9, errors.
    pub fn summary(&self) -> String {
        format!(
            "{:>10.0} calls/s  p50 {:>9.1?}  p99 {:>9.1?}  p99.9 {:>9.1?}  errors {}",
            self.calls_per_sec(),
            self.quantile(0.5),
            self.quantile(0.99),
            self.quantile(0.999),
            self.errors
        )
    }
}

/// Runs `concurrency` workers calling `call` back to back for `duration` (after a warm-up of
/// `warmup` whose calls are not counted). Bounded: every worker stops at the deadline, or
/// after `calls_per_worker` measured calls when given (for instruction counts under
/// callgrind, where a fixed number of calls matters more than a duration).
pub async fn run<F, Fut>(
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
    calls_per_worker: Option<u64>,
    call: F,
) -> LoadReport
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let start = Instant::now() + warmup;
    let started = start;
    let deadline = start + duration;
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let call = call.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(4096);
            let mut errors = 0u64;
            let mut first_error = None;
            let mut measured = 0u64;
            loop {
                let t0 = Instant::now();
                if t0 >= deadline || calls_per_worker.is_some_and(|max| measured >= max) {
                    break;
                }
                let result = call().await;
                if t0 < start {
                    continue;
                }
                measured += 1;
                match result {
                    Ok(()) => {
                        latencies.push(t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32)
                    }
                    Err(err) => {
                        errors += 1;
                        first_error.get_or_insert(err);
                    }
                }
            }
            (latencies, errors, first_error)
        }));
    }
    let mut latencies_us = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for worker in workers {
        if let Ok((l, e, f)) = worker.await {
            latencies_us.extend(l);
            errors += e;
            if first_error.is_none() {
                first_error = f;
            }
        }
    }
    latencies_us.sort_unstable();
    let elapsed = if calls_per_worker.is_some() {
        started.elapsed()
    } else {
        duration
    };
    LoadReport {
        calls: latencies_us.len() as u64,
        errors,
        first_error,
        elapsed,
        latencies_us,
    }
}
