//! `peter import certbot DIR`: an /etc/letsencrypt tree — its accounts and
//! every certificate version under archive/ — recorded in the store.
//! Importing twice changes nothing (each piece reports `created: false`).

use std::path::{Path, PathBuf};

use peter_core::app::CertificateUpload;
use peter_core::formats::private_key_from_jwk;
use serde::Serialize;

use super::{CliError, Context, read_text};
use crate::output::emit;

#[derive(Debug, Default, Serialize)]
struct Report {
    certificates_created: Vec<i64>,
    certificates_known: Vec<i64>,
    accounts_imported: Vec<i64>,
    skipped: Vec<String>,
}

fn dirs(path: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(path)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Account directories: `accounts/<host>/<path...>/<id>/` holding `private_key.json`.
fn account_dirs(path: &Path, out: &mut Vec<PathBuf>) {
    if path.join("private_key.json").is_file() {
        out.push(path.to_path_buf());
        return;
    }
    for d in dirs(path) {
        account_dirs(&d, out);
    }
}

pub async fn run(ctx: &Context, root: &Path) -> Result<(), CliError> {
    if !root.join("archive").is_dir() && !root.join("accounts").is_dir() {
        return Err(CliError::Usage(format!(
            "{} holds neither archive/ nor accounts/: not a certbot directory",
            root.display()
        )));
    }
    let spinner = crate::output::progress(&format!("importing {}", root.display()));
    let mut report = Report::default();
    let mut accounts = Vec::new();
    account_dirs(&root.join("accounts"), &mut accounts);
    if !accounts.is_empty() {
        for dir in accounts {
            let outcome = async {
                let key = private_key_from_jwk(&read_text(&dir.join("private_key.json"))?)
                    .map_err(peter_core::Error::from)?;
                read_text(&dir.join("regr.json"))?;
                ctx.peter
                    .accounts()
                    .import(None, key, None)
                    .await
                    .map_err(CliError::from)
            }
            .await;
            match outcome {
                Ok(a) => report.accounts_imported.push(a.id.0),
                Err(e) => report
                    .skipped
                    .push(format!("account {}: {e}", dir.display())),
            }
        }
    }
    for lineage in dirs(&root.join("archive")) {
        for n in 1.. {
            let cert = lineage.join(format!("cert{n}.pem"));
            if !cert.is_file() {
                break;
            }
            let key = lineage.join(format!("privkey{n}.pem"));
            let chain = lineage.join(format!("chain{n}.pem"));
            let outcome = async {
                let cert_pem = read_text(&cert)?;
                let key_pem = read_text(&key)?;
                let chain_pem = if chain.is_file() {
                    Some(read_text(&chain)?)
                } else {
                    None
                };
                let changed = ctx
                    .peter
                    .certificates()
                    .import(CertificateUpload {
                        certificate_pem: &cert_pem,
                        private_key_pem: &key_pem,
                        chain_pem: chain_pem.as_deref(),
                    })
                    .await
                    .map_err(CliError::from)?;
                crate::output::publication_warnings(&changed.publication);
                Ok::<_, CliError>(changed.value)
            }
            .await;
            match outcome {
                Ok(o) if o.certificate_signed.created => {
                    report.certificates_created.push(o.certificate_signed.id.0)
                }
                Ok(o) => report.certificates_known.push(o.certificate_signed.id.0),
                Err(e) => report.skipped.push(format!("{}: {e}", cert.display())),
            }
        }
    }
    drop(spinner);
    emit(
        ctx.json,
        &serde_json::json!({"result": "success", "import": report}),
        || {
            let mut text = format!(
                "{} certificates imported, {} already known, {} accounts imported\n",
                report.certificates_created.len(),
                report.certificates_known.len(),
                report.accounts_imported.len()
            );
            for s in &report.skipped {
                text.push_str(&format!("skipped: {s}\n"));
            }
            text
        },
    );
    Ok(())
}
