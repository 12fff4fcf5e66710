//! Progress of long work: a bar on a terminal (unless quiet, hidden when stderr is not a
//! terminal), and, for a background job, an observer told each stage's share done.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::domain::model::JobStage;

/// Told the stage and the share of it done (0 to 1); called often, so it must be cheap.
pub type Observer<'a> = &'a (dyn Fn(JobStage, f64) + Sync);

/// How long work reports its progress.
#[derive(Clone, Copy, Default)]
pub struct Progress<'a> {
    pub quiet: bool,
    pub observer: Option<Observer<'a>>,
}

impl<'a> Progress<'a> {
    pub fn quiet() -> Self {
        Self { quiet: true, observer: None }
    }

    /// A bar over `len` steps of `stage`.
    pub fn bar(&self, len: u64, stage: JobStage) -> Bar<'a> {
        let bar = ProgressBar::new(len);
        if self.quiet {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar.set_style(
            ProgressStyle::with_template("{msg:>12} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(stage.name());
        if let Some(observe) = self.observer {
            observe(stage, 0.0);
        }
        Bar { bar, stage, observer: self.observer }
    }

    /// Tells the observer a step without a bar has been reached.
    pub fn reached(&self, stage: JobStage) {
        if let Some(observe) = self.observer {
            observe(stage, 0.0);
        }
    }
}

pub struct Bar<'a> {
    bar: ProgressBar,
    stage: JobStage,
    observer: Option<Observer<'a>>,
}

impl Bar<'_> {
    pub fn inc(&self) {
        self.bar.inc(1);
        if let Some(observe) = self.observer {
            let len = self.bar.length().unwrap_or(1).max(1);
            observe(self.stage, self.bar.position() as f64 / len as f64);
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
