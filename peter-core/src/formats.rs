//! The formats certificates and keys travel in: PEM and DER, X.509
//! certificates, chains, certificate requests and private keys.
//!
//! Everything here parses untrusted input, so nothing panics: each failure is
//! a [`FormatError`] variant that says what was wrong. Parsed values keep both
//! a normalised PEM (LF line ends, one trailing newline) and the exact DER.

use std::fmt;

use aws_lc_rs::digest;
use pkcs8::der::Encode;
use rcgen::{KeyPair, PublicKeyData};
use rustls_pki_types::PrivateKeyDer;
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, GeneralName, ParsedExtension, X509Certificate};

use crate::dns::{DomainName, DomainNameError, FqdnSetError, UniqueFqdnSet};
use crate::model::KeyTechnology;

/// PEM label of an X.509 certificate.
pub const PEM_CERTIFICATE: &str = "CERTIFICATE";
/// PEM label of a PKCS#8 private key.
pub const PEM_PRIVATE_KEY: &str = "PRIVATE KEY";
/// PEM label of a PKCS#1 RSA private key.
pub const PEM_RSA_PRIVATE_KEY: &str = "RSA PRIVATE KEY";
/// PEM label of a SEC1 EC private key.
pub const PEM_EC_PRIVATE_KEY: &str = "EC PRIVATE KEY";
/// PEM label of a PKCS#10 certificate request.
pub const PEM_CERTIFICATE_REQUEST: &str = "CERTIFICATE REQUEST";

/// What was wrong with a certificate, key, request or chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The text holds no PEM block at all.
    #[error("no PEM block was found in the {what}")]
    NoPemBlock {
        /// What was being read (certificate, private key, ...).
        what: &'static str,
    },
    /// A PEM block is damaged (bad base64, unbalanced markers).
    #[error("the {what} is not well-formed PEM: {reason}")]
    MalformedPem {
        /// What was being read.
        what: &'static str,
        /// The decoder's complaint.
        reason: String,
    },
    /// A PEM block of another kind was given.
    #[error("expected a PEM block labelled `{expected}`, found `{found}`")]
    WrongPemType {
        /// The label wanted.
        expected: &'static str,
        /// The label found.
        found: String,
    },
    /// More than one object where exactly one is wanted.
    #[error("expected exactly one {what}, found {count}")]
    UnexpectedCount {
        /// What was being read.
        what: &'static str,
        /// How many were found.
        count: usize,
    },
    /// DER that is not a certificate.
    #[error("malformed certificate: {0}")]
    MalformedCertificate(String),
    /// DER that is not a private key of a known encoding.
    #[error("malformed private key: {0}")]
    MalformedPrivateKey(String),
    /// An encrypted private key; peter stores keys unencrypted in its store.
    #[error("the private key is encrypted; decrypt it first (openssl pkey -in KEY -out PLAIN)")]
    EncryptedPrivateKey,
    /// A key of a type or size peter does not manage.
    #[error("unsupported key: {0}; peter manages RSA 2048/3072/4096 and EC P-256/P-384")]
    UnsupportedKey(String),
    /// DER that is not a certificate request, or whose signature is bad.
    #[error("malformed certificate request: {0}")]
    MalformedCertificateRequest(String),
    /// The private key is not the one the certificate was issued for.
    #[error("the private key does not match the certificate's public key")]
    KeyMismatch,
    /// A chain certificate is missing.
    #[error(
        "the chain does not link: no certificate given signs `{subject}` (looked for issuer `{issuer}`)"
    )]
    ChainMissingLink {
        /// Subject of the certificate whose issuer is missing.
        subject: String,
        /// The issuer name sought.
        issuer: String,
    },
    /// The certificate carries no usable DNS name.
    #[error("the certificate names no DNS name")]
    NoDomainNames,
    /// A CA certificate (basic constraints CA:TRUE) was given as a leaf.
    #[error(
        "the certificate is a CA certificate (CA:TRUE), not a server certificate; give the leaf, and the CA certificates as its chain"
    )]
    CaCertificateAsLeaf,
    /// A chain was given but holds no certificate.
    #[error("the chain is empty; leave it out, or give the intermediate certificates in PEM")]
    EmptyChain,
    /// A chain longer than the limit.
    #[error("the chain holds {count} certificates; at most {max} are accepted")]
    ChainTooLong {
        /// Certificates given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A DNS name in the certificate or request is invalid.
    #[error("invalid domain name `{name}` in the {what}: {reason}")]
    InvalidDomainName {
        /// Where it was found.
        what: &'static str,
        /// The name.
        name: String,
        /// Why it is invalid.
        reason: DomainNameError,
    },
    /// The set of names is not acceptable (too many, ...).
    #[error("the names in the {what} do not form a valid set: {reason}")]
    InvalidNameSet {
        /// Where they were found.
        what: &'static str,
        /// Why.
        reason: FqdnSetError,
    },
    /// Key generation or signing failed inside the crypto library.
    #[error("cryptographic operation failed: {0}")]
    Crypto(String),
}

/// Lowercase hexadecimal of bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(
        String::with_capacity(bytes.len().saturating_mul(2)),
        |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        },
    )
}

/// SHA-1 of bytes, as lowercase hex (certificate fingerprints).
pub fn sha1_hex(bytes: &[u8]) -> String {
    hex(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, bytes).as_ref())
}

/// SHA-256 of bytes, as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, bytes).as_ref())
}

/// Encodes DER as PEM with LF line ends and exactly one trailing newline.
pub fn der_to_pem(label: &str, der: &[u8]) -> String {
    let block = pem::Pem::new(label, der.to_vec());
    let text = pem::encode_config(
        &block,
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    );
    let mut text = text.trim_end().to_string();
    text.push('\n');
    text
}

fn parse_pem_blocks(text: &str, what: &'static str) -> Result<Vec<pem::Pem>, FormatError> {
    let blocks = pem::parse_many(text).map_err(|e| FormatError::MalformedPem {
        what,
        reason: e.to_string(),
    })?;
    if blocks.is_empty() {
        return Err(FormatError::NoPemBlock { what });
    }
    Ok(blocks)
}

/// Whether the bytes look like PEM text rather than DER.
pub fn looks_like_pem(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

/// An X.509 certificate, parsed once, with the facts peter records about it.
#[derive(Clone, PartialEq, Eq)]
pub struct ParsedCertificate {
    der: Vec<u8>,
    pem: String,
    /// SHA-1 of the DER, lowercase hex.
    pub fingerprint_sha1: String,
    /// SHA-256 of the SubjectPublicKeyInfo DER, lowercase hex.
    pub spki_sha256: String,
    /// Subject distinguished name, RFC 4514 style.
    pub subject: String,
    /// Issuer distinguished name, RFC 4514 style.
    pub issuer: String,
    /// Serial number, lowercase hex without separators.
    pub serial: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// Whether basic constraints mark it as a CA.
    pub is_ca: bool,
    /// Whether it names itself as issuer and its signature verifies with its own key.
    pub is_self_signed: bool,
    /// Its key's technology, when peter knows it.
    pub key_technology: Option<KeyTechnology>,
    /// Names from the SAN extension (or the CN when there is no SAN): DNS
    /// names as written, IP addresses in canonical text.
    pub dns_names: Vec<String>,
    raw_subject: Vec<u8>,
    raw_issuer: Vec<u8>,
    spki_der: Vec<u8>,
}

impl fmt::Debug for ParsedCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedCertificate")
            .field("subject", &self.subject)
            .field("issuer", &self.issuer)
            .field("serial", &self.serial)
            .field("fingerprint_sha1", &self.fingerprint_sha1)
            .finish_non_exhaustive()
    }
}

impl ParsedCertificate {
    /// Parses exactly one certificate from PEM text.
    pub fn from_pem(text: &str) -> Result<Self, FormatError> {
        let mut all = parse_certificates_pem(text)?;
        if all.len() != 1 {
            return Err(FormatError::UnexpectedCount {
                what: "certificate",
                count: all.len(),
            });
        }
        Ok(all.remove(0))
    }

    /// Parses a certificate from PEM or DER bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FormatError> {
        if looks_like_pem(bytes) {
            let text = std::str::from_utf8(bytes).map_err(|_| FormatError::MalformedPem {
                what: "certificate",
                reason: "not UTF-8".into(),
            })?;
            Self::from_pem(text)
        } else {
            Self::from_der(bytes)
        }
    }

    /// Parses a certificate from its DER encoding.
    pub fn from_der(der: &[u8]) -> Result<Self, FormatError> {
        let (rest, cert) = X509Certificate::from_der(der)
            .map_err(|e| FormatError::MalformedCertificate(e.to_string()))?;
        if !rest.is_empty() {
            return Err(FormatError::MalformedCertificate(format!(
                "{} bytes of trailing data after the certificate",
                rest.len()
            )));
        }
        let spki = cert.public_key();
        let key_technology = spki
            .parsed()
            .ok()
            .and_then(|key| KeyTechnology::from_public_key(&key));
        let mut dns_names: Vec<String> = Vec::new();
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            dns_names.extend(san.value.general_names.iter().filter_map(san_name));
        }
        if dns_names.is_empty()
            && let Some(cn) = cert
                .subject()
                .iter_common_name()
                .next()
                .and_then(|cn| cn.as_str().ok())
        {
            dns_names.push(cn.to_string());
        }
        let is_ca = matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca);
        let raw_subject = cert.subject().as_raw().to_vec();
        let raw_issuer = cert.issuer().as_raw().to_vec();
        let is_self_signed = raw_subject == raw_issuer && cert.verify_signature(Some(spki)).is_ok();
        let not_before = cert.validity().not_before.to_datetime();
        let not_after = cert.validity().not_after.to_datetime();
        Ok(Self {
            pem: der_to_pem(PEM_CERTIFICATE, der),
            fingerprint_sha1: sha1_hex(der),
            spki_sha256: sha256_hex(spki.raw),
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            serial: hex(cert.raw_serial()),
            not_before,
            not_after,
            is_ca,
            is_self_signed,
            key_technology,
            dns_names,
            raw_subject,
            raw_issuer,
            spki_der: spki.raw.to_vec(),
            der: der.to_vec(),
        })
    }

    /// The exact DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The normalised PEM.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// Whether `issuer`'s key verifies this certificate's signature.
    pub fn is_signed_by(&self, issuer: &ParsedCertificate) -> bool {
        let Ok((_, me)) = X509Certificate::from_der(&self.der) else {
            return false;
        };
        let Ok((_, them)) = X509Certificate::from_der(&issuer.der) else {
            return false;
        };
        me.verify_signature(Some(them.public_key())).is_ok()
    }

    /// Whether the certificate is past its end of validity at `now`.
    pub fn is_expired_at(&self, now: OffsetDateTime) -> bool {
        self.not_after < now
    }

    /// The certificate's names as a canonical set.
    pub fn unique_fqdn_set(&self) -> Result<UniqueFqdnSet, FormatError> {
        names_to_set(&self.dns_names, "certificate")
    }
}

fn names_to_set(names: &[String], what: &'static str) -> Result<UniqueFqdnSet, FormatError> {
    if names.is_empty() {
        return Err(FormatError::NoDomainNames);
    }
    let mut parsed = Vec::with_capacity(names.len());
    for name in names {
        parsed.push(
            DomainName::parse(name).map_err(|reason| FormatError::InvalidDomainName {
                what,
                name: name.clone(),
                reason,
            })?,
        );
    }
    UniqueFqdnSet::from_names(parsed).map_err(|reason| FormatError::InvalidNameSet { what, reason })
}

/// A SAN entry as a certificate name: a DNS name as written, an IP
/// address in its canonical text; other kinds (e-mail, URI) are not names
/// peter serves.
fn san_name(name: &GeneralName) -> Option<String> {
    match name {
        GeneralName::DNSName(dns) => Some((*dns).to_string()),
        GeneralName::IPAddress(bytes) => match bytes.len() {
            4 => <[u8; 4]>::try_from(*bytes)
                .ok()
                .map(|b| std::net::IpAddr::from(b).to_string()),
            16 => <[u8; 16]>::try_from(*bytes)
                .ok()
                .map(|b| std::net::IpAddr::from(b).to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// A self-signed certificate for `names` with `key`, valid in the window
/// (for test doubles such as `peter fake-server`; never for serving).
pub fn self_signed_certificate(
    key: &ParsedPrivateKey,
    names: &[&str],
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<ParsedCertificate, FormatError> {
    let crypto = |e: rcgen::Error| FormatError::Crypto(e.to_string());
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = rcgen::CertificateParams::new(names.clone()).map_err(crypto)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    if let Some(first) = names.first() {
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, first.clone());
    }
    params.not_before = not_before;
    params.not_after = not_after;
    let pair = key.key_pair()?;
    let cert = params.self_signed(&pair).map_err(crypto)?;
    ParsedCertificate::from_der(cert.der())
}

/// Parses every certificate in a PEM bundle (one or more `CERTIFICATE` blocks).
pub fn parse_certificates_pem(text: &str) -> Result<Vec<ParsedCertificate>, FormatError> {
    let blocks = parse_pem_blocks(text, "certificate")?;
    blocks
        .iter()
        .map(|block| {
            if block.tag() != PEM_CERTIFICATE {
                return Err(FormatError::WrongPemType {
                    expected: PEM_CERTIFICATE,
                    found: block.tag().to_string(),
                });
            }
            ParsedCertificate::from_der(block.contents())
        })
        .collect()
}

/// A leaf's issuing path, built by signature from a bag of certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedChain {
    /// Intermediates, from the leaf's issuer upwards. Never contains a root.
    pub intermediates: Vec<ParsedCertificate>,
    /// The self-signed root, when one was given.
    pub root: Option<ParsedCertificate>,
}

impl LinkedChain {
    /// The intermediates as one PEM bundle (what certbot calls chain.pem).
    pub fn chain_pem(&self) -> String {
        self.intermediates.iter().map(|c| c.pem()).collect()
    }
}

/// Orders `pool` (given in any order) into the path that issued `leaf`,
/// verifying each link by signature. A self-signed root ends the path and is
/// kept apart. Every certificate given must belong to the path: one that does
/// not means a link is missing, and the error names the issuer sought.
pub fn link_chain(
    leaf: &ParsedCertificate,
    pool: Vec<ParsedCertificate>,
) -> Result<LinkedChain, FormatError> {
    let mut remaining: Vec<ParsedCertificate> = Vec::new();
    for cert in pool {
        if cert.fingerprint_sha1 != leaf.fingerprint_sha1
            && !remaining
                .iter()
                .any(|c| c.fingerprint_sha1 == cert.fingerprint_sha1)
        {
            remaining.push(cert);
        }
    }
    let mut intermediates = Vec::new();
    let mut root = None;
    let mut current = leaf.clone();
    while !remaining.is_empty() {
        // Prefer a candidate whose subject matches the issuer name, but accept
        // only one whose key verifies the signature.
        let found = remaining
            .iter()
            .position(|c| c.raw_subject == current.raw_issuer && current.is_signed_by(c))
            .or_else(|| remaining.iter().position(|c| current.is_signed_by(c)));
        let Some(index) = found else { break };
        let issuer = remaining.remove(index);
        if issuer.is_self_signed {
            root = Some(issuer);
            break;
        }
        intermediates.push(issuer.clone());
        current = issuer;
    }
    if !remaining.is_empty() {
        return Err(FormatError::ChainMissingLink {
            subject: current.subject.clone(),
            issuer: current.issuer.clone(),
        });
    }
    Ok(LinkedChain {
        intermediates,
        root,
    })
}

/// Leaf plus intermediates, the file web servers load. A root is never included.
pub fn fullchain_pem(leaf: &ParsedCertificate, chain: &LinkedChain) -> String {
    let mut out = leaf.pem().to_string();
    out.push_str(&chain.chain_pem());
    out
}

/// Normalises a PEM bundle: each block re-encoded from its DER, LF line ends,
/// one trailing newline.
pub fn normalize_pem_bundle(text: &str) -> Result<String, FormatError> {
    let blocks = parse_pem_blocks(text, "PEM bundle")?;
    Ok(blocks
        .iter()
        .map(|b| der_to_pem(b.tag(), b.contents()))
        .collect())
}

/// Decodes the first PEM block of `text` to DER, checking its label.
pub fn pem_to_der(text: &str, expected: &'static str) -> Result<Vec<u8>, FormatError> {
    let blocks = parse_pem_blocks(text, expected_what(expected))?;
    let block = blocks.first().ok_or(FormatError::NoPemBlock {
        what: expected_what(expected),
    })?;
    if block.tag() != expected {
        return Err(FormatError::WrongPemType {
            expected,
            found: block.tag().to_string(),
        });
    }
    Ok(block.contents().to_vec())
}

fn expected_what(label: &str) -> &'static str {
    match label {
        PEM_CERTIFICATE => "certificate",
        PEM_CERTIFICATE_REQUEST => "certificate request",
        _ => "private key",
    }
}

/// A private key, normalised to PKCS#8, with the facts peter records.
///
/// Its `Debug` shows no key material: keys must never reach a log.
#[derive(Clone, PartialEq, Eq)]
pub struct ParsedPrivateKey {
    pkcs8_der: Vec<u8>,
    pem: String,
    spki_der: Vec<u8>,
    /// SHA-256 of the public key's SubjectPublicKeyInfo DER, lowercase hex.
    pub spki_sha256: String,
    /// RSA size or EC curve.
    pub technology: KeyTechnology,
}

impl fmt::Debug for ParsedPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedPrivateKey")
            .field("technology", &self.technology)
            .field("spki_sha256", &self.spki_sha256)
            .finish_non_exhaustive()
    }
}

impl ParsedPrivateKey {
    /// Parses one private key from PEM: PKCS#8 (`PRIVATE KEY`), PKCS#1
    /// (`RSA PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`). An `EC PARAMETERS`
    /// block beside it, as `openssl ecparam -genkey` writes, is ignored.
    pub fn from_pem(text: &str) -> Result<Self, FormatError> {
        let blocks = parse_pem_blocks(text, "private key")?;
        let keys: Vec<&pem::Pem> = blocks
            .iter()
            .filter(|b| b.tag() != "EC PARAMETERS")
            .collect();
        let [block] = keys.as_slice() else {
            return Err(FormatError::UnexpectedCount {
                what: "private key",
                count: keys.len(),
            });
        };
        let der = match block.tag() {
            PEM_PRIVATE_KEY => PrivateKeyDer::Pkcs8(block.contents().to_vec().into()),
            PEM_RSA_PRIVATE_KEY => PrivateKeyDer::Pkcs1(block.contents().to_vec().into()),
            PEM_EC_PRIVATE_KEY => PrivateKeyDer::Sec1(block.contents().to_vec().into()),
            "ENCRYPTED PRIVATE KEY" => return Err(FormatError::EncryptedPrivateKey),
            other => {
                return Err(FormatError::WrongPemType {
                    expected: PEM_PRIVATE_KEY,
                    found: other.to_string(),
                });
            }
        };
        Self::from_key_der(&der)
    }

    /// Parses a private key from PEM or DER bytes (the DER encoding is detected).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FormatError> {
        if looks_like_pem(bytes) {
            let text = std::str::from_utf8(bytes).map_err(|_| FormatError::MalformedPem {
                what: "private key",
                reason: "not UTF-8".into(),
            })?;
            Self::from_pem(text)
        } else {
            let der = PrivateKeyDer::try_from(bytes)
                .map_err(|e| FormatError::MalformedPrivateKey(e.to_string()))?;
            Self::from_key_der(&der)
        }
    }

    fn from_key_der(der: &PrivateKeyDer<'_>) -> Result<Self, FormatError> {
        let pkcs8 = match der {
            PrivateKeyDer::Pkcs8(k) => k.secret_pkcs8_der().to_vec(),
            PrivateKeyDer::Pkcs1(k) => wrap_pkcs1(k.secret_pkcs1_der())?,
            PrivateKeyDer::Sec1(k) => sec1_to_pkcs8(k.secret_sec1_der())?,
            _ => return Err(FormatError::MalformedPrivateKey("unknown encoding".into())),
        };
        Self::from_pkcs8(pkcs8)
    }

    fn from_pkcs8(pkcs8: Vec<u8>) -> Result<Self, FormatError> {
        let pair = KeyPair::try_from(pkcs8.as_slice()).map_err(|e| {
            // Say what the key is when it parses but is not one we handle
            // (RSA 16384 is refused by the crypto library, not misformed).
            unsupported_rsa_size(&pkcs8)
                .unwrap_or_else(|| FormatError::MalformedPrivateKey(e.to_string()))
        })?;
        let spki_der = pair.subject_public_key_info();
        let technology = technology_of_spki(&spki_der)?;
        Ok(Self {
            pem: der_to_pem(PEM_PRIVATE_KEY, &pkcs8),
            spki_sha256: sha256_hex(&spki_der),
            spki_der,
            pkcs8_der: pkcs8,
            technology,
        })
    }

    /// Generates a new key of the given technology.
    pub fn generate(technology: KeyTechnology) -> Result<Self, FormatError> {
        let crypto = |e: rcgen::Error| FormatError::Crypto(e.to_string());
        let pair = match technology {
            KeyTechnology::EcP256 => {
                KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(crypto)?
            }
            KeyTechnology::EcP384 => {
                KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).map_err(crypto)?
            }
            KeyTechnology::Rsa2048 | KeyTechnology::Rsa3072 | KeyTechnology::Rsa4096 => {
                let size = match technology {
                    KeyTechnology::Rsa2048 => rcgen::RsaKeySize::_2048,
                    KeyTechnology::Rsa3072 => rcgen::RsaKeySize::_3072,
                    _ => rcgen::RsaKeySize::_4096,
                };
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, size).map_err(crypto)?
            }
        };
        Self::from_bytes(&pair.serialize_der())
    }

    /// The key as PKCS#8 PEM (`PRIVATE KEY`).
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The key as PKCS#8 DER: what a `.key` download carries.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8_der
    }

    /// The public key's SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// A signing key pair, for building certificate requests.
    pub fn key_pair(&self) -> Result<KeyPair, FormatError> {
        KeyPair::try_from(self.pkcs8_der.as_slice()).map_err(|e| FormatError::Crypto(e.to_string()))
    }

    /// Whether this key is the one `certificate` was issued for.
    pub fn matches_certificate(&self, certificate: &ParsedCertificate) -> bool {
        self.spki_sha256 == certificate.spki_sha256
    }

    /// Fails with [`FormatError::KeyMismatch`] unless the key matches.
    pub fn ensure_matches(&self, certificate: &ParsedCertificate) -> Result<(), FormatError> {
        if self.matches_certificate(certificate) {
            Ok(())
        } else {
            Err(FormatError::KeyMismatch)
        }
    }
}

/// `UnsupportedKey("RSA n bits")` for an RSA PKCS#8 key of a size peter
/// does not manage; `None` for anything else.
fn unsupported_rsa_size(pkcs8: &[u8]) -> Option<FormatError> {
    use pkcs8::der::Decode;
    let info = pkcs8::PrivateKeyInfo::from_der(pkcs8).ok()?;
    if info.algorithm.oid != OID_RSA_ENCRYPTION {
        return None;
    }
    let key = pkcs1::RsaPrivateKey::from_der(info.private_key).ok()?;
    let bits = key.modulus.as_bytes().len().saturating_mul(8);
    (!matches!(bits, 2048 | 3072 | 4096))
        .then(|| FormatError::UnsupportedKey(format!("RSA {bits} bits")))
}

/// A readable name for an elliptic curve's OID.
fn curve_name(oid: &str) -> String {
    match oid {
        "1.2.840.10045.3.1.7" => "EC P-256".into(),
        "1.3.132.0.34" => "EC P-384".into(),
        "1.3.132.0.35" => "EC P-521".into(),
        "1.3.132.0.10" => "EC secp256k1".into(),
        other => format!("EC curve {other}"),
    }
}

fn technology_of_spki(spki_der: &[u8]) -> Result<KeyTechnology, FormatError> {
    let (_, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki_der)
        .map_err(|e| FormatError::MalformedPrivateKey(e.to_string()))?;
    let key = spki
        .parsed()
        .map_err(|e| FormatError::UnsupportedKey(e.to_string()))?;
    KeyTechnology::from_public_key(&key).ok_or_else(|| {
        FormatError::UnsupportedKey(match key {
            x509_parser::public_key::PublicKey::RSA(rsa) => format!("RSA {} bits", rsa.key_size()),
            x509_parser::public_key::PublicKey::EC(_) => spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map_or_else(
                    || "EC key on an unnamed curve".into(),
                    |oid| curve_name(&oid.to_id_string()),
                ),
            _ => "key algorithm".to_string(),
        })
    })
}

const OID_RSA_ENCRYPTION: pkcs8::ObjectIdentifier =
    pkcs8::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

fn wrap_pkcs1(pkcs1: &[u8]) -> Result<Vec<u8>, FormatError> {
    let info = pkcs8::PrivateKeyInfo {
        algorithm: pkcs8::AlgorithmIdentifierRef {
            oid: OID_RSA_ENCRYPTION,
            parameters: Some(pkcs8::der::asn1::AnyRef::NULL),
        },
        private_key: pkcs1,
        public_key: None,
    };
    info.to_der()
        .map_err(|e| FormatError::MalformedPrivateKey(e.to_string()))
}

fn sec1_to_pkcs8(sec1: &[u8]) -> Result<Vec<u8>, FormatError> {
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair,
    };
    for alg in [
        &ECDSA_P256_SHA256_ASN1_SIGNING,
        &ECDSA_P384_SHA384_ASN1_SIGNING,
    ] {
        if let Ok(pair) = EcdsaKeyPair::from_private_key_der(alg, sec1) {
            let doc = pair.to_pkcs8v1().map_err(|_| {
                FormatError::MalformedPrivateKey("cannot re-encode the EC key".into())
            })?;
            return Ok(doc.as_ref().to_vec());
        }
    }
    Err(FormatError::UnsupportedKey(
        "an EC key that is neither P-256 nor P-384 (P-521, for one), or a damaged SEC1 key".into(),
    ))
}

/// A PKCS#10 certificate request, parsed and signature-checked.
#[derive(Clone, PartialEq, Eq)]
pub struct ParsedCsr {
    der: Vec<u8>,
    pem: String,
    /// SHA-256 of the requested key's SubjectPublicKeyInfo, lowercase hex.
    pub spki_sha256: String,
    /// Technology of the requested key.
    pub key_technology: Option<KeyTechnology>,
    /// Names requested (SAN, else CN): DNS names and IP addresses.
    pub dns_names: Vec<String>,
}

impl fmt::Debug for ParsedCsr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedCsr")
            .field("dns_names", &self.dns_names)
            .field("spki_sha256", &self.spki_sha256)
            .finish_non_exhaustive()
    }
}

impl ParsedCsr {
    /// Parses a request from PEM text (`CERTIFICATE REQUEST`).
    pub fn from_pem(text: &str) -> Result<Self, FormatError> {
        let blocks = parse_pem_blocks(text, "certificate request")?;
        let [block] = blocks.as_slice() else {
            return Err(FormatError::UnexpectedCount {
                what: "certificate request",
                count: blocks.len(),
            });
        };
        if block.tag() != PEM_CERTIFICATE_REQUEST && block.tag() != "NEW CERTIFICATE REQUEST" {
            return Err(FormatError::WrongPemType {
                expected: PEM_CERTIFICATE_REQUEST,
                found: block.tag().to_string(),
            });
        }
        Self::from_der(block.contents())
    }

    /// Parses a request from DER and checks its self-signature.
    pub fn from_der(der: &[u8]) -> Result<Self, FormatError> {
        use x509_parser::certification_request::X509CertificationRequest;
        let bad = |e: String| FormatError::MalformedCertificateRequest(e);
        let (rest, csr) =
            X509CertificationRequest::from_der(der).map_err(|e| bad(e.to_string()))?;
        if !rest.is_empty() {
            return Err(bad("trailing data after the request".into()));
        }
        csr.verify_signature()
            .map_err(|e| bad(format!("signature does not verify: {e}")))?;
        let info = &csr.certification_request_info;
        let mut dns_names = Vec::new();
        if let Some(extensions) = csr.requested_extensions() {
            for ext in extensions {
                if let ParsedExtension::SubjectAlternativeName(san) = ext {
                    dns_names.extend(san.general_names.iter().filter_map(san_name));
                }
            }
        }
        if dns_names.is_empty()
            && let Some(cn) = info
                .subject
                .iter_common_name()
                .next()
                .and_then(|cn| cn.as_str().ok())
        {
            dns_names.push(cn.to_string());
        }
        let key_technology = info
            .subject_pki
            .parsed()
            .ok()
            .and_then(|k| KeyTechnology::from_public_key(&k));
        Ok(Self {
            pem: der_to_pem(PEM_CERTIFICATE_REQUEST, der),
            spki_sha256: sha256_hex(info.subject_pki.raw),
            key_technology,
            dns_names,
            der: der.to_vec(),
        })
    }

    /// Builds and signs a request for `names` with `key`: every name in the
    /// SAN (an IP address as an `iPAddress` entry), CN = the first DNS name
    /// (none when the set holds addresses only: a CN is no place for one).
    pub fn build(key: &ParsedPrivateKey, names: &UniqueFqdnSet) -> Result<Self, FormatError> {
        let crypto = |e: rcgen::Error| FormatError::Crypto(e.to_string());
        let list: Vec<String> = names.names().map(|n| n.as_str().to_string()).collect();
        if list.is_empty() {
            return Err(FormatError::NoDomainNames);
        }
        let first_dns = names.names().find(|n| n.ip().is_none());
        let mut params = rcgen::CertificateParams::new(list).map_err(crypto)?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        if let Some(first) = first_dns {
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, first.as_str());
        }
        let pair = key.key_pair()?;
        let csr = params.serialize_request(&pair).map_err(crypto)?;
        Self::from_der(csr.der().as_ref())
    }

    /// The exact DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Normalised PEM.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The requested names as a canonical set.
    pub fn unique_fqdn_set(&self) -> Result<UniqueFqdnSet, FormatError> {
        names_to_set(&self.dns_names, "certificate request")
    }
}

/// Reads a private key from a JSON Web Key (certbot's `private_key.json`):
/// EC P-256, or RSA (certbot's default) with all of its CRT members, built
/// into PKCS#1 with the `pkcs1` crate and checked like any uploaded key.
pub fn private_key_from_jwk(json: &str) -> Result<ParsedPrivateKey, FormatError> {
    use base64::Engine;
    let bad = |m: &str| FormatError::MalformedPrivateKey(format!("JWK: {m}"));
    let jwk: serde_json::Value = serde_json::from_str(json).map_err(|e| bad(&e.to_string()))?;
    let field = |name: &str| -> Result<Vec<u8>, FormatError> {
        let text = jwk
            .get(name)
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| bad(&format!("missing `{name}`")))?;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|_| bad(&format!("`{name}` is not base64url")))
    };
    let member = |name: &str| jwk.get(name).and_then(serde_json::Value::as_str);
    match (member("kty"), member("crv")) {
        (Some("EC"), Some("P-256")) => {
            let (d, x, y) = (field("d")?, field("x")?, field("y")?);
            if d.len() != 32 || x.len() != 32 || y.len() != 32 {
                return Err(bad("P-256 coordinates must be 32 bytes"));
            }
            // SEC1 ECPrivateKey { version 1, d, [0] prime256v1, [1] 04||x||y }
            let mut der = vec![0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20];
            der.extend_from_slice(&d);
            der.extend_from_slice(&[
                0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
            ]);
            der.extend_from_slice(&[0xa1, 0x44, 0x03, 0x42, 0x00, 0x04]);
            der.extend_from_slice(&x);
            der.extend_from_slice(&y);
            ParsedPrivateKey::from_key_der(&PrivateKeyDer::Sec1(der.into()))
        }
        (Some("RSA"), _) => {
            use pkcs1::der::Encode;
            use pkcs1::der::asn1::UintRef;
            // A JWK without the CRT members (p, q, dp, dq, qi) is legal but
            // cannot be written as PKCS#1; certbot always writes them.
            let members = ["n", "e", "d", "p", "q", "dp", "dq", "qi"]
                .iter()
                .map(|name| field(name))
                .collect::<Result<Vec<_>, _>>()?;
            let uint = |i: usize| {
                let bytes = members.get(i).map(Vec::as_slice).unwrap_or_default();
                UintRef::new(bytes).map_err(|e| bad(&format!("RSA member: {e}")))
            };
            let key = pkcs1::RsaPrivateKey {
                modulus: uint(0)?,
                public_exponent: uint(1)?,
                private_exponent: uint(2)?,
                prime1: uint(3)?,
                prime2: uint(4)?,
                exponent1: uint(5)?,
                exponent2: uint(6)?,
                coefficient: uint(7)?,
                other_prime_infos: None,
            };
            let der = key.to_der().map_err(|e| bad(&e.to_string()))?;
            // Parsing checks the key is consistent and of a managed size.
            ParsedPrivateKey::from_bytes(&wrap_pkcs1(&der)?)
        }
        (kty, crv) => Err(FormatError::UnsupportedKey(format!(
            "a JWK of type {} {}",
            kty.unwrap_or("?"),
            crv.unwrap_or("")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An RSA key whose modulus has 16,384 bits (the other fields are
    /// placeholders: only the size is read before the key is refused;
    /// generating a real one takes minutes).
    fn rsa_16384_pkcs8() -> Vec<u8> {
        use pkcs1::der::Encode;
        use pkcs1::der::asn1::UintRef;
        let modulus = vec![0xc5u8; 2048];
        let small = [0x03u8];
        let key = pkcs1::RsaPrivateKey {
            modulus: UintRef::new(&modulus).unwrap(),
            public_exponent: UintRef::new(&[0x01, 0x00, 0x01]).unwrap(),
            private_exponent: UintRef::new(&modulus).unwrap(),
            prime1: UintRef::new(&small).unwrap(),
            prime2: UintRef::new(&small).unwrap(),
            exponent1: UintRef::new(&small).unwrap(),
            exponent2: UintRef::new(&small).unwrap(),
            coefficient: UintRef::new(&small).unwrap(),
            other_prime_infos: None,
        };
        wrap_pkcs1(&key.to_der().unwrap()).unwrap()
    }

    #[test]
    fn an_rsa_key_too_large_is_named_by_its_size() {
        let err = ParsedPrivateKey::from_bytes(&rsa_16384_pkcs8()).unwrap_err();
        assert!(
            matches!(&err, FormatError::UnsupportedKey(m) if m == "RSA 16384 bits"),
            "{err}"
        );
    }
}
