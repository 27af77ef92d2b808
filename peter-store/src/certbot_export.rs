//! Export to certbot's on-disk layout, for web servers configured for it:
//! `archive/<name>/{cert,chain,fullchain,privkey}N.pem` holding every
//! exported version, and `live/<name>/*.pem` symlinks to the newest.
//!
//! A lineage is one set of names; its `<name>` is the set's first name
//! (with `-0001`, `-0002`, ... on collision) and is kept across runs in
//! `peter-lineages.json` at the top of the tree. Symlinks are switched by
//! rename, so a reader never sees a missing file; keys are 0600 and
//! directories 0700.

use std::collections::BTreeMap;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use peter_core::app::ServedDomain;
use peter_core::ports::{ExportItem, ExportReport, ExportTarget, PublishError};
use serde::{Deserialize, Serialize};

/// Why the export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The deploy hook could not run or failed.
    #[error("the deploy hook failed: {0}")]
    Hook(String),
    /// The state file is damaged.
    #[error("{0}: damaged lineage state: {1}")]
    State(PathBuf, String),
}

const STATE_FILE: &str = "peter-lineages.json";

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    /// unique_fqdn_set id -> lineage
    lineages: BTreeMap<i64, Lineage>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Lineage {
    name: String,
    /// Certificate ids, version 1 first.
    versions: Vec<i64>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn private_dir(path: &Path) -> Result<(), ExportError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(io(path))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).map_err(io(path))
}

/// Writes `bytes` to `path` through a temporary file and a rename.
fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), ExportError> {
    use std::io::Write;
    let tmp = path.with_extension("peter-tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode)).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// Points `link` at `target` by creating a new symlink and renaming it over.
fn switch_symlink(target: &Path, link: &Path) -> Result<(), ExportError> {
    let tmp = link.with_extension("peter-tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp).map_err(io(&tmp))?;
    std::fs::rename(&tmp, link).map_err(io(link))
}

fn allocate_name(first: &str, taken: &[String]) -> String {
    if !taken.iter().any(|t| t == first) {
        return first.to_string();
    }
    (1..)
        .map(|n| format!("{first}-{n:04}"))
        .find(|candidate| !taken.iter().any(|t| t == candidate))
        .unwrap_or_else(|| first.to_string())
}

/// certbot's layout under a directory, as an export target: what changed
/// since the last export is written, then the deploy hook (if any) runs
/// once, with the changed lineage names in `PETER_CHANGED_LINEAGES`.
#[derive(Debug, Clone)]
pub struct CertbotExport {
    root: PathBuf,
    deploy_hook: Option<String>,
}

impl CertbotExport {
    /// Exports into `root` (an /etc/letsencrypt-like directory).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            deploy_hook: None,
        }
    }

    /// A command run by `sh -c` once after any change (reloading nginx, say).
    pub fn deploy_hook(mut self, command: impl Into<String>) -> Self {
        self.deploy_hook = Some(command.into());
        self
    }
}

#[async_trait::async_trait]
impl ExportTarget for CertbotExport {
    async fn export(&self, items: &[ExportItem]) -> Result<ExportReport, PublishError> {
        let this = self.clone();
        let items = items.to_vec();
        // File writes and the hook block: keep them off the async workers.
        tokio::task::spawn_blocking(move || this.export_blocking(&items))
            .await
            .map_err(|e| PublishError::caused_by("the export task failed", e))?
            .map_err(|e| PublishError::caused_by(e.to_string(), e))
    }
}

impl CertbotExport {
    fn export_blocking(&self, items: &[ExportItem]) -> Result<ExportReport, ExportError> {
        let mut report = write_lineages(&self.root, items)?;
        if let (Some(hook), false) = (&self.deploy_hook, report.changed.is_empty()) {
            let status = std::process::Command::new("sh")
                .args(["-c", hook])
                .env("PETER_CHANGED_LINEAGES", report.changed.join(" "))
                .env("PETER_EXPORT_DIR", &self.root)
                .status()
                .map_err(|source| ExportError::Hook(source.to_string()))?;
            if !status.success() {
                return Err(ExportError::Hook(format!("it exited with {status}")));
            }
            report.deploy_hook_ran = true;
        }
        Ok(report)
    }
}

fn read_state(root: &Path, missing_is_empty: bool) -> Result<State, ExportError> {
    let state_path = root.join(STATE_FILE);
    match std::fs::read_to_string(&state_path) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|e| ExportError::State(state_path.clone(), e.to_string())),
        Err(e) if missing_is_empty && e.kind() == std::io::ErrorKind::NotFound => {
            Ok(State::default())
        }
        Err(e) => Err(ExportError::Io {
            path: state_path,
            source: e,
        }),
    }
}

/// Writes each item as the next version of its lineage, unless it is
/// already the newest one.
fn write_lineages(root: &Path, items: &[ExportItem]) -> Result<ExportReport, ExportError> {
    private_dir(root)?;
    let state_path = root.join(STATE_FILE);
    let mut state = read_state(root, true)?;
    let mut report = ExportReport::default();
    for item in items {
        let set_id = item.unique_fqdn_set_id.0;
        let lineage = match state.lineages.get(&set_id) {
            Some(l) => l.clone(),
            None => {
                let first = item.names.first().cloned().unwrap_or_default();
                let taken: Vec<String> = state.lineages.values().map(|l| l.name.clone()).collect();
                Lineage {
                    name: allocate_name(&first, &taken),
                    versions: Vec::new(),
                }
            }
        };
        if lineage.versions.last() == Some(&item.certificate_signed_id.0) {
            report.unchanged.push(lineage.name.clone());
            state.lineages.insert(set_id, lineage);
            continue;
        }
        let version = lineage.versions.len().saturating_add(1);
        let archive = root.join("archive").join(&lineage.name);
        let live = root.join("live").join(&lineage.name);
        private_dir(&archive)?;
        private_dir(&live)?;
        let files: [(&str, String, u32); 4] = [
            ("cert", item.cert_pem.clone(), 0o644),
            ("chain", item.chain_pem.clone(), 0o644),
            (
                "fullchain",
                format!("{}{}", item.cert_pem, item.chain_pem),
                0o644,
            ),
            ("privkey", item.key_pem.clone(), 0o600),
        ];
        for (stem, body, mode) in &files {
            write_atomic(
                &archive.join(format!("{stem}{version}.pem")),
                body.as_bytes(),
                *mode,
            )?;
        }
        for (stem, _, _) in &files {
            let target = Path::new("..")
                .join("..")
                .join("archive")
                .join(&lineage.name)
                .join(format!("{stem}{version}.pem"));
            switch_symlink(&target, &live.join(format!("{stem}.pem")))?;
        }
        let mut lineage = lineage;
        lineage.versions.push(item.certificate_signed_id.0);
        report.changed.push(lineage.name.clone());
        state.lineages.insert(set_id, lineage);
        // The state is saved after each lineage, so a stop loses nothing written.
        let text = serde_json::to_vec_pretty(&state)
            .map_err(|e| ExportError::State(state_path.clone(), e.to_string()))?;
        write_atomic(&state_path, &text, 0o600)?;
    }
    Ok(report)
}

/// nginx `server` blocks for every served domain whose certificate was
/// exported to `root` (run the export first): `listen` is the address and
/// port to listen on, `ssl` added.
pub fn nginx_server_blocks(
    served: &[ServedDomain],
    root: &Path,
    listen: &str,
) -> Result<String, ExportError> {
    let state = read_state(root, false)?;
    let mut out =
        String::from("# Written by `peter nginx config`: one server block per active domain.\n");
    for domain in served {
        let Some(lineage) = state.lineages.get(&domain.unique_fqdn_set_id.0) else {
            continue;
        };
        let live = root.join("live").join(&lineage.name);
        out.push_str(&format!(
            "\nserver {{\n    listen {listen} ssl;\n    server_name {};\n    ssl_certificate {};\n    ssl_certificate_key {};\n    location / {{\n        return 200 \"peter: {}\\n\";\n    }}\n}}\n",
            domain.domain_name,
            live.join("fullchain.pem").display(),
            live.join("privkey.pem").display(),
            domain.domain_name,
        ));
    }
    Ok(out)
}
