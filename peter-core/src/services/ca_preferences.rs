//! The CA preference list: which CA's chain is served when a certificate
//! was offered several.

use crate::error::Error;
use crate::model::*;
use crate::ports::{Page, Store, StoreError};

/// A CA by id, or by SHA-1 fingerprint (hex, colons allowed, full or at
/// least its first 8 characters; it must name exactly one CA).
pub async fn find_ca(
    store: &dyn Store,
    id: Option<CertificateCaId>,
    fingerprint_sha1: Option<&str>,
) -> Result<CertificateCaId, Error> {
    if let Some(id) = id {
        return Ok(store.certificate_ca(id).await?.id);
    }
    let Some(fp) = fingerprint_sha1.map(|f| f.trim().to_ascii_lowercase().replace(':', "")) else {
        return Err(Error::InvalidField {
            field: "certificate_ca_id",
            message: "give certificate_ca_id or fingerprint_sha1".into(),
        });
    };
    if fp.len() < 8 || !fp.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::InvalidField {
            field: "fingerprint_sha1",
            message: "give at least 8 hex characters".into(),
        });
    }
    let mut found = Vec::new();
    let mut page = 1;
    loop {
        let batch = store.list_certificate_cas(Page::new(page, 500)).await?;
        found.extend(
            batch
                .items
                .iter()
                .filter(|c| c.fingerprint_sha1.to_ascii_lowercase().starts_with(&fp))
                .map(|c| c.id),
        );
        match batch.page_next() {
            Some(next) => page = next,
            None => break,
        }
    }
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(StoreError::not_found("CertificateCA with fingerprint", fp).into()),
        _ => Err(Error::InvalidField {
            field: "fingerprint_sha1",
            message: "more than one CertificateCA matches; give more characters".into(),
        }),
    }
}

/// Moves a CA one place earlier or later in the preference list (at the
/// ends it stays), in one transaction.
pub async fn move_preference(
    store: &dyn Store,
    id: CertificateCaId,
    earlier: bool,
) -> Result<Vec<CertificateCa>, Error> {
    let mut ids: Vec<CertificateCaId> =
        store.ca_preferences().await?.iter().map(|c| c.id).collect();
    let at = ids
        .iter()
        .position(|x| *x == id)
        .ok_or_else(|| StoreError::not_found("CertificateCA in the preference list", id))?;
    let to = if earlier {
        at.saturating_sub(1)
    } else {
        at.saturating_add(1).min(ids.len().saturating_sub(1))
    };
    ids.swap(at, to);
    Ok(store.set_ca_preferences(&ids).await?)
}
