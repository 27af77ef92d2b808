//! Certificate and key downloads in the formats of the spec's table: each
//! file name suffix fixes the encoding and the content type. PEM is
//! normalised (LF, one trailing newline, no root in a chain); DER is the
//! exact encoding; a `.key` is PKCS#8 DER.

use crate::error::Error;
use crate::formats::{PEM_CERTIFICATE, ParsedPrivateKey, pem_to_der};
use crate::model::*;
use crate::ports::{Store, StoreError};

/// A file to hand out.
#[derive(Clone, PartialEq, Eq)]
pub struct Download {
    /// The bytes.
    pub body: Vec<u8>,
    /// Which file it is.
    pub format: DownloadFormat,
    /// Its content type.
    pub content_type: &'static str,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("format", &self.format)
            .field("bytes", &self.body.len())
            .finish()
    }
}

impl Download {
    /// Whether it holds private key material (write it 0600; never cache it).
    pub fn is_private(&self) -> bool {
        self.format.is_private()
    }

    fn of(format: DownloadFormat, body: Vec<u8>) -> Self {
        Self {
            body,
            format,
            content_type: format.content_type(),
        }
    }
}

/// The chain a certificate is served with: the first offered chain that
/// contains a CA of the preference list (in list order), else the upstream
/// default, else none.
pub async fn preferred_chain(
    store: &dyn Store,
    id: CertificateSignedId,
) -> Result<Option<CertificateCaChain>, Error> {
    let offers = store.certificate_chains(id).await?;
    let preferences: Vec<CertificateCaId> =
        store.ca_preferences().await?.iter().map(|c| c.id).collect();
    Ok(choose_chain(&offers, &preferences).cloned())
}

pub use crate::model::rules::choose_chain;

/// The chain a certificate is handed out with: `chain` when given (it must
/// be one the certificate was offered with), else its preferred chain.
pub async fn served_chain(
    store: &dyn Store,
    id: CertificateSignedId,
    chain: Option<CertificateCaChainId>,
) -> Result<Option<CertificateCaChain>, Error> {
    match chain {
        Some(chain_id) => Ok(Some(
            store
                .certificate_chains(id)
                .await?
                .into_iter()
                .map(|o| o.chain)
                .find(|c| c.id == chain_id)
                .ok_or_else(|| {
                    StoreError::not_found("CertificateCAChain for this certificate", chain_id)
                })?,
        )),
        None => preferred_chain(store, id).await,
    }
}

/// A certificate's file (one of [`CertificateFile`]'s), through `chain`
/// (a chain the certificate was offered with) or its preferred chain.
pub async fn certificate_download(
    store: &dyn Store,
    id: CertificateSignedId,
    format: DownloadFormat,
    chain: Option<CertificateCaChainId>,
) -> Result<Download, Error> {
    use DownloadFormat::*;
    let cert = store.certificate_signed(id).await?;
    let chain_pem = || async {
        Ok::<String, Error>(
            served_chain(store, id, chain)
                .await?
                .map(|c| c.chain_pem)
                .unwrap_or_default(),
        )
    };
    let body = match format {
        CertPem | CertPemTxt => cert.cert_pem.into_bytes(),
        CertCer | CertCrt | CertDer => pem_to_der(&cert.cert_pem, PEM_CERTIFICATE)?,
        ChainPem | ChainPemTxt => chain_pem().await?.into_bytes(),
        FullchainPem | FullchainPemTxt => {
            format!("{}{}", cert.cert_pem, chain_pem().await?).into_bytes()
        }
        PrivkeyPem | PrivkeyPemTxt | PrivkeyKey => {
            let key = store.private_key(cert.private_key_id).await?;
            return key_file(&key.key_pem, format);
        }
        other => return Err(not_offered(other, "a certificate")),
    };
    Ok(Download::of(format, body))
}

fn not_offered(format: DownloadFormat, what: &str) -> Error {
    Error::InvalidField {
        field: "format",
        message: format!("`{format}` is not a file of {what}"),
    }
}

/// A CA certificate's file.
pub async fn ca_download(
    store: &dyn Store,
    id: CertificateCaId,
    format: DownloadFormat,
) -> Result<Download, Error> {
    use DownloadFormat::*;
    let ca = store.certificate_ca(id).await?;
    let body = match format {
        CertPem | CertPemTxt => ca.cert_pem.into_bytes(),
        CertCer | CertCrt | CertDer => pem_to_der(&ca.cert_pem, PEM_CERTIFICATE)?,
        other => return Err(not_offered(other, "a CA certificate")),
    };
    Ok(Download {
        body,
        format,
        content_type: format.content_type_for_ca(),
    })
}

/// A CA chain's file.
pub async fn chain_download(
    store: &dyn Store,
    id: CertificateCaChainId,
    format: DownloadFormat,
) -> Result<Download, Error> {
    let chain = store.certificate_ca_chain(id).await?;
    match format {
        DownloadFormat::ChainPem | DownloadFormat::ChainPemTxt => {
            Ok(Download::of(format, chain.chain_pem.into_bytes()))
        }
        other => Err(not_offered(other, "a chain")),
    }
}

/// A certificate request's file (`csr.csr` is PEM too).
pub async fn csr_download(
    store: &dyn Store,
    id: CertificateRequestId,
    format: DownloadFormat,
) -> Result<Download, Error> {
    let csr = store.certificate_request(id).await?;
    match format {
        DownloadFormat::CsrPem | DownloadFormat::CsrPemTxt | DownloadFormat::CsrCsr => {
            Ok(Download::of(format, csr.csr_pem.into_bytes()))
        }
        other => Err(not_offered(other, "a certificate request")),
    }
}

/// A key's file from its PEM: PKCS#8 PEM, or PKCS#8 DER for `.key`.
pub fn key_file(key_pem: &str, format: DownloadFormat) -> Result<Download, Error> {
    let parsed = ParsedPrivateKey::from_pem(key_pem)?;
    let body = match format {
        DownloadFormat::PrivkeyKey | DownloadFormat::KeyKey => parsed.pkcs8_der().to_vec(),
        DownloadFormat::PrivkeyPem
        | DownloadFormat::PrivkeyPemTxt
        | DownloadFormat::KeyPem
        | DownloadFormat::KeyPemTxt => parsed.pem().as_bytes().to_vec(),
        other => return Err(not_offered(other, "a key")),
    };
    Ok(Download::of(format, body))
}
