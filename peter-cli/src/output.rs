//! Printing results: a human line by default, JSON with `--json`.

use serde::Serialize;

/// Prints `value` as JSON when `json` is set, else the human text.
pub fn emit<T: Serialize>(json: bool, value: &T, human: impl FnOnce() -> String) {
    if json {
        match serde_json::to_string_pretty(value) {
            Ok(text) => println!("{text}"),
            Err(e) => eprintln!("peter: error: cannot encode output: {e}"),
        }
    } else {
        let text = human();
        if !text.is_empty() {
            println!("{}", text.trim_end());
        }
    }
}
