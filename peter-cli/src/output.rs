//! Printing results: a human line by default, JSON with `--json`. Output to
//! a closed pipe (`peter cert list | head -1`) ends quietly, never in a panic.

use std::io::Write;

use serde::Serialize;

/// Writes bytes to stdout; a reader that went away is not an error.
pub fn write_stdout(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes).and_then(|()| out.flush());
}

/// Prints `value` as JSON when `json` is set, else the human text.
pub fn emit<T: Serialize>(json: bool, value: &T, human: impl FnOnce() -> String) {
    if json {
        match serde_json::to_string_pretty(value) {
            Ok(text) => write_stdout(format!("{text}\n").as_bytes()),
            Err(e) => eprintln!("peter: error: cannot encode output: {e}"),
        }
    } else {
        let text = human();
        if !text.is_empty() {
            write_stdout(format!("{}\n", text.trim_end()).as_bytes());
        }
    }
}

/// Shows that long work is going on: a spinner when stderr is a terminal,
/// one plain line otherwise. Cleared when dropped.
pub struct Progress(Option<indicatif::ProgressBar>);

/// Starts a [`Progress`] for `message`.
pub fn progress(message: &str) -> Progress {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message(message.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Progress(Some(bar))
    } else {
        eprintln!("peter: {message}");
        Progress(None)
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
