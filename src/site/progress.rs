//! The build's progress bar, and its stage timings with `RUNBOOK_SITE_TIMING=1`.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The progress bar: hidden until the build has taken a second, and only on a terminal.
pub struct Progress {
    bar: ProgressBar,
    start: Instant,
    enabled: bool,
    shown: bool,
    /// Each stage and when it started; printed with `RUNBOOK_SITE_TIMING=1`.
    stages: Vec<(&'static str, Instant)>,
}

impl Progress {
    pub fn new(enabled: bool, len: u64) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} {msg:<22} [{bar:30}] {pos}/{len} {elapsed}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        Progress {
            bar,
            start: Instant::now(),
            enabled,
            shown: false,
            stages: Vec::new(),
        }
    }

    pub fn stage(&mut self, msg: &'static str) {
        if timing() {
            eprintln!("timing: before {msg:<14} peak {} MB", peak_mb());
        }
        self.stages.push((msg, Instant::now()));
        self.bar.set_message(msg);
        self.tick();
    }

    pub fn inc(&mut self, n: u64) {
        self.bar.inc(n);
        self.tick();
    }

    fn tick(&mut self) {
        if self.enabled && !self.shown && self.start.elapsed() > Duration::from_secs(1) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.bar.enable_steady_tick(Duration::from_millis(120));
            self.shown = true;
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
        if timing() {
            eprintln!("timing: at the end peak {} MB", peak_mb());
            let end = Instant::now();
            let mut from = self.start;
            let mut name = "setup";
            for (stage, at) in &self.stages {
                eprintln!("timing: {name:<14} {:>8.3} s", (*at - from).as_secs_f64());
                from = *at;
                name = stage;
            }
            eprintln!("timing: {name:<14} {:>8.3} s", (end - from).as_secs_f64());
        }
    }
}

fn timing() -> bool {
    std::env::var_os("RUNBOOK_SITE_TIMING").is_some_and(|v| v == "1")
}

/// The process's peak resident memory so far, in MB (Linux; 0 elsewhere).
fn peak_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}
