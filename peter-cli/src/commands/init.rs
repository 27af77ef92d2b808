//! `peter init`: lays out the data dir. Safe to run again: nothing that
//! exists is overwritten, and the admin token is printed only when created.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

use base64::Engine;
use serde::Serialize;

use super::{CliError, Context};
use crate::Cli;
use crate::config::{ADMIN_TOKEN_FILE, CONFIG_FILE, Config};
use crate::output::emit;

#[derive(Serialize)]
struct InitReport {
    data_dir: String,
    config_file: String,
    config_created: bool,
    database_url: String,
    admin_token_file: String,
    /// Present only when the token was created by this run.
    #[serde(skip_serializing_if = "Option::is_none")]
    admin_token: Option<String>,
    unset_global_default_accounts: Vec<i64>,
    /// Files holding secrets whose permissions this run tightened to 0600.
    tightened_to_0600: Vec<String>,
}

/// Sets files that hold secrets (the token, the configuration with its
/// URLs and tokens, the SQLite store with every private key) that others
/// may read back to 0600; returns those it changed and says so on stderr.
fn tighten(paths: &[std::path::PathBuf]) -> Result<Vec<String>, CliError> {
    let mut changed = Vec::new();
    for path in paths {
        let Ok(meta) = std::fs::metadata(path) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| CliError::io(path, e))?;
            eprintln!(
                "peter: {} was readable by others (mode {mode:o}): set to 600",
                path.display()
            );
            changed.push(path.display().to_string());
        }
    }
    Ok(changed)
}

fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub async fn run(cli: &Cli) -> Result<(), CliError> {
    let dir = &cli.data_dir;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| CliError::io(dir, e))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| CliError::io(dir, e))?;

    let config_path = dir.join(CONFIG_FILE);
    let config_created = !config_path.exists();
    if config_created {
        let mut config = Config::default();
        if let Some(url) = &cli.database_url {
            config.database_url = url.clone();
        }
        write_private(&config_path, config.to_toml().as_bytes())?;
    }

    let token_path = dir.join(ADMIN_TOKEN_FILE);
    let admin_token = if token_path.exists() {
        None
    } else {
        let token = new_token();
        write_private(&token_path, format!("{token}\n").as_bytes())?;
        Some(token)
    };

    // Before the store is opened (which sets its own file's mode quietly).
    let sqlite = dir.join(crate::config::SQLITE_FILE);
    let tightened_to_0600 = tighten(&[
        token_path.clone(),
        config_path.clone(),
        sqlite.clone(),
        sqlite.with_extension("sqlite-wal"),
        sqlite.with_extension("sqlite-shm"),
    ])?;
    let ctx = Context::open(cli).await?;
    let startup = ctx.peter.apply_startup_rules().await?;
    let out = InitReport {
        data_dir: dir.display().to_string(),
        config_file: config_path.display().to_string(),
        config_created,
        database_url: redact_url(
            &cli.database_url
                .clone()
                .unwrap_or_else(|| ctx.config.database_url(dir)),
        ),
        admin_token_file: token_path.display().to_string(),
        admin_token: admin_token.clone(),
        unset_global_default_accounts: startup.unset_global_defaults.iter().map(|a| a.0).collect(),
        tightened_to_0600,
    };
    emit(ctx.json, &out, || {
        let mut text = format!(
            "data dir: {}\nconfig: {}{}\nstore: {}\n",
            out.data_dir,
            out.config_file,
            if config_created { " (created)" } else { "" },
            out.database_url
        );
        match &admin_token {
            Some(t) => text.push_str(&format!(
                "admin token (shown once; also in {}): {t}\n",
                out.admin_token_file
            )),
            None => text.push_str(&format!(
                "admin token: unchanged, in {}\n",
                out.admin_token_file
            )),
        }
        text
    });
    Ok(())
}

/// Hides a password in a database URL before printing it.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<(), CliError> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| CliError::io(path, e))?;
    file.write_all(bytes).map_err(|e| CliError::io(path, e))
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(
            super::redact_url("sqlite://x?mode=rwc"),
            "sqlite://x?mode=rwc"
        );
    }
}
