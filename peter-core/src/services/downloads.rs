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
    let preferences = store.ca_preferences().await?;
    for ca in &preferences {
        if let Some(offer) = offers
            .iter()
            .find(|o| o.chain.certificate_ca_ids.contains(&ca.id))
        {
            return Ok(Some(offer.chain.clone()));
        }
    }
    Ok(offers.into_iter().next().map(|o| o.chain))
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
        let chain = match chain {
            Some(chain_id) => store
                .certificate_chains(id)
                .await?
                .into_iter()
                .map(|o| o.chain)
                .find(|c| c.id == chain_id)
                .ok_or_else(|| {
                    StoreError::not_found("CertificateCAChain for this certificate", chain_id)
                })?,
            None => match preferred_chain(store, id).await? {
                Some(c) => c,
                None => return Ok::<String, Error>(String::new()),
            },
        };
        Ok(chain.chain_pem)
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
