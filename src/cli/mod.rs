//! Command handlers that need more than a few lines of wiring, one module per concern.

use std::io::{ErrorKind, Write};

use runbook::diagnostics::{Diagnostic, Diagnostics};

pub mod init;
pub mod run;
pub mod schema;
pub mod search;
pub mod site;

/// Writes a command's output to standard output. Every command's output goes through here:
/// `println!` panics once the reader has gone (`runbook list | head -1`), where a command should
/// stop quietly, as any filter does. Another failure (a full disk) is an error.
pub fn print(text: &str) -> Result<(), Diagnostics> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Diagnostic::error(format!("cannot write to standard output: {e}")).into()),
    }
}

/// A count with its noun: "1 chapter", "3 chapters".
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Writes messages and prompts to standard error. When that fails there is nowhere left to
/// say so, and it is no reason to stop (or to panic, as `eprintln!` would).
pub fn note(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}
