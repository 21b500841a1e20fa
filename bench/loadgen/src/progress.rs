//! Progress of each long phase (connecting, publishing, collecting, soaking), on
//! stderr so stdout keeps only the report: an `indicatif` bar on a terminal; when
//! stderr is a pipe or a file (CI logs, `bench/*.sh | tee`), where a bar would be
//! hidden, a plain line as the phase starts, one every few seconds, and one at its end.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How often a phase says where it is when it cannot draw a bar.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// One phase: `name` counting up to `total`. Cheap to clone; any task may advance it.
#[derive(Clone)]
pub struct Phase {
    bar: ProgressBar,
    name: &'static str,
    started: Instant,
}

impl Phase {
    pub fn start(name: &'static str, total: usize) -> Phase {
        let bar = ProgressBar::new(total as u64);
        let phase = Phase {
            bar: bar.clone(),
            name,
            started: Instant::now(),
        };
        if bar.is_hidden() {
            eprintln!("== {name}: 0/{total}");
            let plain = phase.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval_at(tokio::time::Instant::now() + PLAIN_EVERY, PLAIN_EVERY);
                while !plain.bar.is_finished() {
                    every.tick().await;
                    if !plain.bar.is_finished() {
                        eprintln!("{}", plain.status());
                    }
                }
            });
        } else {
            let style = ProgressStyle::with_template("{prefix:>10} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_prefix(name);
            bar.enable_steady_tick(Duration::from_millis(200));
        }
        phase
    }

    pub fn inc(&self, n: usize) {
        self.bar.inc(n as u64);
    }

    pub fn set(&self, n: usize) {
        self.bar.set_position(n as u64);
    }

    /// Ends the phase with a line saying how far it got and how long it took.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
        eprintln!("{}", self.status());
    }

    fn status(&self) -> String {
        format!(
            "== {}: {}/{} after {:.1}s",
            self.name,
            self.bar.position(),
            self.bar.length().unwrap_or_default(),
            self.started.elapsed().as_secs_f64()
        )
    }
}
