//! Importing certificates obtained elsewhere (certbot, another CA, a backup).

use crate::dns::UniqueFqdnSet;
use crate::error::Error;
use crate::formats::{
    FormatError, ParsedCertificate, ParsedPrivateKey, link_chain, parse_certificates_pem,
};
use crate::ports::{CertificateImport, Clock, ImportOutcome, Store};

/// The PEM texts of a certificate upload.
#[derive(Debug, Clone, Copy)]
pub struct CertificateUpload<'a> {
    /// The leaf certificate (one PEM block).
    pub certificate_pem: &'a str,
    /// Its private key (PKCS#8, PKCS#1 or SEC1 PEM).
    pub private_key_pem: &'a str,
    /// Its chain (intermediates, optionally the root), in any order.
    pub chain_pem: Option<&'a str>,
}

/// Certificates accepted in an uploaded chain by default.
pub const DEFAULT_MAX_CHAIN_CERTIFICATES: usize = 10;

/// Parses and checks an upload without touching the store: the key must match
/// the certificate, the chain must link by signature, the names must be valid.
/// The chain may hold [`DEFAULT_MAX_CHAIN_CERTIFICATES`].
#[cfg_attr(not(feature = "testkit"), allow(dead_code))]
pub fn prepare_certificate_import(
    upload: CertificateUpload<'_>,
    clock: &dyn Clock,
) -> Result<CertificateImport, Error> {
    prepare_certificate_import_with(upload, clock, DEFAULT_MAX_CHAIN_CERTIFICATES)
}

/// [`prepare_certificate_import`] with another chain limit. A CA
/// certificate is refused as the leaf; a chain given but empty is an error.
pub fn prepare_certificate_import_with(
    upload: CertificateUpload<'_>,
    clock: &dyn Clock,
    max_chain_certificates: usize,
) -> Result<CertificateImport, Error> {
    let certificate = ParsedCertificate::from_pem(upload.certificate_pem)?;
    if certificate.is_ca {
        return Err(FormatError::CaCertificateAsLeaf.into());
    }
    let private_key = ParsedPrivateKey::from_pem(upload.private_key_pem)?;
    private_key.ensure_matches(&certificate)?;
    let pool = match upload.chain_pem {
        Some(text) if text.trim().is_empty() => return Err(FormatError::EmptyChain.into()),
        Some(text) => {
            // Count before parsing: a huge bundle is refused unread.
            let count = text.matches("-----BEGIN ").count();
            if count > max_chain_certificates {
                return Err(FormatError::ChainTooLong {
                    count,
                    max: max_chain_certificates,
                }
                .into());
            }
            parse_certificates_pem(text)?
        }
        None => Vec::new(),
    };
    let chain = link_chain(&certificate, pool)?;
    let unique_fqdn_set: UniqueFqdnSet = certificate.unique_fqdn_set()?;
    let is_expired = certificate.is_expired_at(clock.now());
    Ok(CertificateImport {
        certificate,
        private_key,
        chain,
        unique_fqdn_set,
        chain_display_name: "manual upload".to_string(),
        is_expired,
        alternate_chains: Vec::new(),
        acme_order_id: None,
        certificate_request_id: None,
    })
}

/// Imports a certificate, its key and chain. Blocklisted names are refused.
/// Importing the same certificate again returns the same ids, `created: false`.
#[cfg_attr(not(feature = "testkit"), allow(dead_code))]
pub async fn import_certificate(
    store: &dyn Store,
    clock: &dyn Clock,
    upload: CertificateUpload<'_>,
) -> Result<ImportOutcome, Error> {
    import_certificate_with(store, clock, upload, DEFAULT_MAX_CHAIN_CERTIFICATES).await
}

/// [`import_certificate`] with another chain limit.
pub async fn import_certificate_with(
    store: &dyn Store,
    clock: &dyn Clock,
    upload: CertificateUpload<'_>,
    max_chain_certificates: usize,
) -> Result<ImportOutcome, Error> {
    let import = prepare_certificate_import_with(upload, clock, max_chain_certificates)?;
    for name in import.unique_fqdn_set.names() {
        if store.is_domain_blocklisted(name).await? {
            return Err(Error::Blocklisted(name.to_string()));
        }
    }
    Ok(store.import_certificate(&import).await?)
}
