//! Printing results: a human line by default, JSON with `--json`. Output to
//! a closed pipe (`peter cert list | head -1`) ends quietly, never in a panic.

use std::io::Write;

use serde::Serialize;

/// Writes bytes to stdout; a reader that went away is not an error.
pub fn write_stdout(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes).and_then(|()| out.flush());
}

/// Prints `view` (one of the admin API's view types, rendered exactly as
/// the API sends it) when `json` is set, else the human text.
pub fn emit_view<T: poem_openapi::types::ToJSON>(
    json: bool,
    view: &T,
    human: impl FnOnce() -> String,
) {
    emit(json, &peter_http::views::render(view), human)
}

/// Prints `value` as JSON when `json` is set, else the human text. For
/// outputs the API has no view of (reports of CLI-only commands).
pub fn emit<T: Serialize>(json: bool, value: &T, human: impl FnOnce() -> String) {
    if json {
        match serde_json::to_string_pretty(value) {
            Ok(text) => write_stdout(format!("{text}\n").as_bytes()),
            Err(e) => eprintln!("peter: error: cannot encode output: {e}"),
        }
    } else {
        // Human text holds names, subjects and messages from certificates
        // and CAs: control characters in them (a terminal title, a screen
        // clear) are shown escaped, never sent to the terminal.
        let text = terminal_safe(&human());
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

/// Warns on stderr about publishers that failed after a change (the change
/// itself stands).
pub fn publication_warnings(publication: &peter_core::app::Publication) {
    for (publisher, error) in publication.failures() {
        eprintln!("peter: warning: {publisher} was not updated: {error}");
    }
}

/// Writes a file, 0600 when it holds a key.
pub fn write_file(
    path: &std::path::Path,
    bytes: &[u8],
    private: bool,
) -> Result<(), crate::commands::CliError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mode = if private { 0o600 } else { 0o644 };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .map_err(|e| crate::commands::CliError::io(path, e))?;
    // An existing file keeps its mode on open: tighten it for keys.
    f.set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(|e| crate::commands::CliError::io(path, e))?;
    f.write_all(bytes)
        .map_err(|e| crate::commands::CliError::io(path, e))
}

/// Text from untrusted fields (a certificate's names and issuer) with
/// control characters escaped, so nothing can rewrite the terminal.
pub fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// `text` with every control character but line breaks and tabs escaped.
pub fn terminal_safe(text: &str) -> String {
    text.split('\n')
        .map(|line| {
            line.split('\t')
                .map(printable)
                .collect::<Vec<_>>()
                .join("\t")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_from_certificates_never_reach_the_terminal() {
        let hostile = "a.example.com\u{1b}]0;owned\u{7}\u{1b}[2J\r\u{9b}31m\nissuer: x\ty";
        let shown = terminal_safe(hostile);
        assert!(
            !shown
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t'),
            "{shown:?}"
        );
        assert_eq!(shown.lines().count(), 2);
        assert!(shown.contains("\\u{1b}]0;owned\\u{7}"), "{shown}");
    }
}
