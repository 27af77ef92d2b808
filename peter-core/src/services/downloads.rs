//! Certificate and key downloads in the formats of the spec's table: each
//! file name suffix fixes the encoding and the content type. PEM is
//! normalised (LF, one trailing newline, no root in a chain); DER is the
//! exact encoding; a `.key` is PKCS#8 DER.

use crate::error::Error;
use crate::formats::{PEM_CERTIFICATE, ParsedPrivateKey, pem_to_der};
use crate::model::*;
use crate::ports::{Store, StoreError};

/// A file to hand out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// The bytes.
    pub body: Vec<u8>,
    /// Its content type.
    pub content_type: &'static str,
    /// Whether it holds private key material (write it 0600).
    pub is_private: bool,
}

/// The files a certificate can be downloaded as.
pub const CERTIFICATE_FORMATS: &[&str] = &[
    "cert.pem",
    "cert.pem.txt",
    "cert.cer",
    "cert.crt",
    "cert.der",
    "chain.pem",
    "chain.pem.txt",
    "fullchain.pem",
    "fullchain.pem.txt",
    "privkey.pem",
    "privkey.pem.txt",
    "privkey.key",
];

const PEM: &str = "application/x-pem-file";
const TEXT: &str = "text/plain";

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

/// The preference rule on its own: the first offer (offers come upstream
/// default first) containing the earliest preferred CA, else the first offer.
pub fn choose_chain<'a>(
    offers: &'a [crate::model::CertificateChainOffer],
    preferences: &[CertificateCaId],
) -> Option<&'a CertificateCaChain> {
    preferences
        .iter()
        .find_map(|ca| {
            offers
                .iter()
                .find(|o| o.chain.certificate_ca_ids.contains(ca))
        })
        .or_else(|| offers.first())
        .map(|o| &o.chain)
}

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

/// One of [`CERTIFICATE_FORMATS`] for a certificate, through `chain` (a
/// chain id the certificate was offered with) or its preferred chain.
pub async fn certificate_download(
    store: &dyn Store,
    id: CertificateSignedId,
    format: &str,
    chain: Option<CertificateCaChainId>,
) -> Result<Download, Error> {
    if !CERTIFICATE_FORMATS.contains(&format) {
        return Err(Error::InvalidField {
            field: "format",
            message: format!(
                "`{format}` is not one of {}",
                CERTIFICATE_FORMATS.join(", ")
            ),
        });
    }
    let cert = store.certificate_signed(id).await?;
    let pem = |body: String, text: bool| Download {
        body: body.into_bytes(),
        content_type: if text { TEXT } else { PEM },
        is_private: false,
    };
    let chain_pem = || async {
        Ok::<String, Error>(
            served_chain(store, id, chain)
                .await?
                .map(|c| c.chain_pem)
                .unwrap_or_default(),
        )
    };
    Ok(match format {
        "cert.pem" | "cert.pem.txt" => pem(cert.cert_pem.clone(), format.ends_with(".txt")),
        "cert.cer" | "cert.crt" | "cert.der" => Download {
            body: pem_to_der(&cert.cert_pem, PEM_CERTIFICATE)?,
            content_type: if format == "cert.cer" {
                "application/pkix-cert"
            } else {
                "application/x-x509-server-cert"
            },
            is_private: false,
        },
        "chain.pem" | "chain.pem.txt" => pem(chain_pem().await?, format.ends_with(".txt")),
        "fullchain.pem" | "fullchain.pem.txt" => pem(
            format!("{}{}", cert.cert_pem, chain_pem().await?),
            format.ends_with(".txt"),
        ),
        _ => {
            let key = store.private_key(cert.private_key_id).await?;
            let parsed = ParsedPrivateKey::from_pem(&key.key_pem)?;
            match format {
                "privkey.key" => Download {
                    body: parsed.pkcs8_der().to_vec(),
                    content_type: "application/pkcs8",
                    is_private: true,
                },
                _ => Download {
                    body: parsed.pem().as_bytes().to_vec(),
                    content_type: if format.ends_with(".txt") { TEXT } else { PEM },
                    is_private: true,
                },
            }
        }
    })
}

/// The files a CA certificate can be downloaded as.
pub const CA_FORMATS: &[&str] = &[
    "cert.pem",
    "cert.pem.txt",
    "cert.cer",
    "cert.crt",
    "cert.der",
];
/// The files a CA chain can be downloaded as.
pub const CHAIN_FORMATS: &[&str] = &["chain.pem", "chain.pem.txt"];
/// The files a certificate request can be downloaded as.
pub const CSR_FORMATS: &[&str] = &["csr.pem", "csr.pem.txt", "csr.csr"];
/// The files a private key (a certificate's or an account's) can be
/// downloaded as.
pub const KEY_FORMATS: &[&str] = &["key.pem", "key.pem.txt", "key.key"];

fn unknown_format(format: &str, formats: &[&str]) -> Error {
    Error::InvalidField {
        field: "format",
        message: format!("`{format}` is not one of {}", formats.join(", ")),
    }
}

fn text_download(body: String, format: &str, binary_type: &'static str) -> Download {
    Download {
        body: body.into_bytes(),
        content_type: if format.ends_with(".txt") {
            TEXT
        } else {
            binary_type
        },
        is_private: false,
    }
}

/// One of [`CA_FORMATS`] for a CA certificate.
pub async fn ca_download(
    store: &dyn Store,
    id: CertificateCaId,
    format: &str,
) -> Result<Download, Error> {
    if !CA_FORMATS.contains(&format) {
        return Err(unknown_format(format, CA_FORMATS));
    }
    let ca = store.certificate_ca(id).await?;
    Ok(match format {
        "cert.pem" | "cert.pem.txt" => text_download(ca.cert_pem, format, PEM),
        _ => Download {
            body: pem_to_der(&ca.cert_pem, PEM_CERTIFICATE)?,
            content_type: if format == "cert.cer" {
                "application/pkix-cert"
            } else {
                "application/x-x509-ca-cert"
            },
            is_private: false,
        },
    })
}

/// One of [`CHAIN_FORMATS`] for a CA chain.
pub async fn chain_download(
    store: &dyn Store,
    id: CertificateCaChainId,
    format: &str,
) -> Result<Download, Error> {
    if !CHAIN_FORMATS.contains(&format) {
        return Err(unknown_format(format, CHAIN_FORMATS));
    }
    let chain = store.certificate_ca_chain(id).await?;
    Ok(text_download(chain.chain_pem, format, PEM))
}

/// One of [`CSR_FORMATS`] for a certificate request (`csr.csr` is PEM too).
pub async fn csr_download(
    store: &dyn Store,
    id: CertificateRequestId,
    format: &str,
) -> Result<Download, Error> {
    if !CSR_FORMATS.contains(&format) {
        return Err(unknown_format(format, CSR_FORMATS));
    }
    let csr = store.certificate_request(id).await?;
    let binary_type = if format == "csr.csr" {
        "application/pkcs10"
    } else {
        PEM
    };
    Ok(text_download(csr.csr_pem, format, binary_type))
}

/// One of [`KEY_FORMATS`] for a key held as PEM: `key.key` is PKCS#8 DER.
pub fn key_download(key_pem: &str, format: &str) -> Result<Download, Error> {
    if !KEY_FORMATS.contains(&format) {
        return Err(unknown_format(format, KEY_FORMATS));
    }
    let parsed = ParsedPrivateKey::from_pem(key_pem)?;
    Ok(match format {
        "key.key" => Download {
            body: parsed.pkcs8_der().to_vec(),
            content_type: "application/pkcs8",
            is_private: true,
        },
        _ => Download {
            is_private: true,
            ..text_download(parsed.pem().to_string(), format, PEM)
        },
    })
}
