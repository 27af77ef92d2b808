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

use peter_core::ports::Store;
use peter_core::services::downloads::preferred_chain;
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
    /// The store failed.
    #[error(transparent)]
    Core(#[from] peter_core::Error),
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

/// What an export changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExportReport {
    /// Lineages that got a new version.
    pub changed: Vec<String>,
    /// Lineages already current.
    pub unchanged: Vec<String>,
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

/// Exports the newest active certificate of every set of names into `root`.
pub async fn export_certbot(store: &dyn Store, root: &Path) -> Result<ExportReport, ExportError> {
    private_dir(root)?;
    let state_path = root.join(STATE_FILE);
    let mut state: State = match std::fs::read_to_string(&state_path) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|e| ExportError::State(state_path.clone(), e.to_string()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::default(),
        Err(e) => {
            return Err(ExportError::Io {
                path: state_path,
                source: e,
            });
        }
    };
    let newest = peter_core::services::renewals::newest_active_certificates(store).await?;
    let mut report = ExportReport::default();
    for cert in newest {
        let set_id = cert.unique_fqdn_set_id.0;
        let lineage = match state.lineages.get(&set_id) {
            Some(l) => l.clone(),
            None => {
                let set = store
                    .unique_fqdn_set(cert.unique_fqdn_set_id)
                    .await
                    .map_err(peter_core::Error::from)?;
                let first = set
                    .set
                    .names()
                    .next()
                    .map(|n| n.to_string())
                    .unwrap_or_default();
                let taken: Vec<String> = state.lineages.values().map(|l| l.name.clone()).collect();
                Lineage {
                    name: allocate_name(&first, &taken),
                    versions: Vec::new(),
                }
            }
        };
        if lineage.versions.last() == Some(&cert.id.0) {
            report.unchanged.push(lineage.name.clone());
            state.lineages.insert(set_id, lineage);
            continue;
        }
        let version = lineage.versions.len() + 1;
        let archive = root.join("archive").join(&lineage.name);
        let live = root.join("live").join(&lineage.name);
        private_dir(&archive)?;
        private_dir(&live)?;
        let chain = preferred_chain(store, cert.id)
            .await?
            .map(|c| c.chain_pem)
            .unwrap_or_default();
        let key = store
            .private_key(cert.private_key_id)
            .await
            .map_err(peter_core::Error::from)?;
        let files: [(&str, String, u32); 4] = [
            ("cert", cert.cert_pem.clone(), 0o644),
            ("chain", chain.clone(), 0o644),
            ("fullchain", format!("{}{}", cert.cert_pem, chain), 0o644),
            ("privkey", key.key_pem.clone(), 0o600),
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
        lineage.versions.push(cert.id.0);
        report.changed.push(lineage.name.clone());
        state.lineages.insert(set_id, lineage);
        // The state is saved after each lineage, so a stop loses nothing written.
        let text = serde_json::to_vec_pretty(&state).unwrap_or_default();
        write_atomic(&state_path, &text, 0o600)?;
    }
    Ok(report)
}

/// nginx `server` blocks for every active domain whose certificate was
/// exported to `root` (run the export first): `listen` is the address and
/// port to listen on, `ssl` added.
pub async fn nginx_server_blocks(
    store: &dyn Store,
    root: &Path,
    listen: &str,
) -> Result<String, ExportError> {
    let state_path = root.join(STATE_FILE);
    let state: State = match std::fs::read_to_string(&state_path) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|e| ExportError::State(state_path.clone(), e.to_string()))?,
        Err(e) => {
            return Err(ExportError::Io {
                path: state_path,
                source: e,
            });
        }
    };
    let mut out =
        String::from("# Written by `peter nginx config`: one server block per active domain.\n");
    let mut after = peter_core::model::DomainId(0);
    loop {
        let page = store
            .domain_publications(after, 500, None)
            .await
            .map_err(peter_core::Error::from)?;
        let Some(last) = page.last() else { break };
        after = last.domain_id;
        for publication in &page {
            let cert = store
                .certificate_signed(publication.certificate_signed_id)
                .await
                .map_err(peter_core::Error::from)?;
            let Some(lineage) = state.lineages.get(&cert.unique_fqdn_set_id.0) else {
                continue;
            };
            let live = root.join("live").join(&lineage.name);
            out.push_str(&format!(
                "\nserver {{\n    listen {listen} ssl;\n    server_name {};\n    ssl_certificate {};\n    ssl_certificate_key {};\n    location / {{\n        return 200 \"peter: {}\\n\";\n    }}\n}}\n",
                publication.domain_name,
                live.join("fullchain.pem").display(),
                live.join("privkey.pem").display(),
                publication.domain_name,
            ));
        }
        if page.len() < 500 {
            break;
        }
    }
    Ok(out)
}
