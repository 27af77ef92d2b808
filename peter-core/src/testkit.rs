//! A throw-away PKI for tests: a root, an intermediate, and leaves issued on
//! demand for any names, key technology and validity window. Compiled only
//! for tests and with the `testkit` feature.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

use crate::formats::{ParsedCertificate, ParsedPrivateKey};
use crate::model::KeyTechnology;
use crate::services::import::CertificateUpload;

/// A root CA and an intermediate CA that issues leaves.
pub struct TestPki {
    root_params: CertificateParams,
    root_key: KeyPair,
    intermediate_params: CertificateParams,
    intermediate_key: KeyPair,
    /// The self-signed root.
    pub root: ParsedCertificate,
    /// The intermediate, signed by the root.
    pub intermediate: ParsedCertificate,
}

/// A leaf certificate and its key.
pub struct Leaf {
    /// The certificate.
    pub certificate: ParsedCertificate,
    /// Its key.
    pub key: ParsedPrivateKey,
}

fn ca_params(common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("empty SAN list");
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name.to_string());
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(30);
    params.not_after = now + Duration::days(3650);
    params
}

impl TestPki {
    /// A new root and intermediate named after `label`.
    pub fn new(label: &str) -> Self {
        let root_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("keygen");
        let root_params = ca_params(&format!("{label} Test Root"));
        let root_cert = root_params.self_signed(&root_key).expect("self-sign root");
        let intermediate_key =
            KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("keygen");
        let intermediate_params = ca_params(&format!("{label} Test Intermediate"));
        let root_issuer = Issuer::from_params(&root_params, &root_key);
        let intermediate_cert = intermediate_params
            .signed_by(&intermediate_key, &root_issuer)
            .expect("sign intermediate");
        Self {
            root: ParsedCertificate::from_der(root_cert.der()).expect("parse root"),
            intermediate: ParsedCertificate::from_der(intermediate_cert.der())
                .expect("parse intermediate"),
            root_params,
            root_key,
            intermediate_params,
            intermediate_key,
        }
    }

    /// Issues a certificate for `names` to `key`, valid in the given window.
    pub fn issue_for_key(
        &self,
        names: &[&str],
        key: &ParsedPrivateKey,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> ParsedCertificate {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names.clone()).expect("SAN list");
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, names[0].clone());
        params.not_before = not_before;
        params.not_after = not_after;
        let issuer = Issuer::from_params(&self.intermediate_params, &self.intermediate_key);
        let subject_key = key.key_pair().expect("key pair");
        let cert = params.signed_by(&subject_key, &issuer).expect("sign leaf");
        ParsedCertificate::from_der(cert.der()).expect("parse leaf")
    }

    /// Issues a 90-day certificate for `names` with a new key.
    pub fn issue(&self, names: &[&str], technology: KeyTechnology) -> Leaf {
        let now = OffsetDateTime::now_utc();
        self.issue_window(
            names,
            technology,
            now - Duration::days(1),
            now + Duration::days(89),
        )
    }

    /// Issues a certificate for `names` with a new key, valid in the given window.
    pub fn issue_window(
        &self,
        names: &[&str],
        technology: KeyTechnology,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Leaf {
        let key = ParsedPrivateKey::generate(technology).expect("generate key");
        let certificate = self.issue_for_key(names, &key, not_before, not_after);
        Leaf { certificate, key }
    }

    /// The intermediate as chain PEM (what certbot's chain.pem holds).
    pub fn chain_pem(&self) -> String {
        self.intermediate.pem().to_string()
    }

    /// Intermediate and root, in reverse order, as one PEM bundle.
    pub fn chain_with_root_pem(&self) -> String {
        format!("{}{}", self.root.pem(), self.intermediate.pem())
    }

    /// The root's key pair, for tests that sign odd things.
    pub fn root_key(&self) -> &KeyPair {
        &self.root_key
    }

    /// The root's parameters.
    pub fn root_params(&self) -> &CertificateParams {
        &self.root_params
    }
}

impl Leaf {
    /// An upload of this leaf with `chain_pem`.
    pub fn upload<'a>(&'a self, chain_pem: Option<&'a str>) -> CertificateUpload<'a> {
        CertificateUpload {
            certificate_pem: self.certificate.pem(),
            private_key_pem: self.key.pem(),
            chain_pem,
        }
    }
}

/// The system's clock moved by a fixed offset: a process started with it
/// behaves as if it ran that much later (renewal leases expire for it), so
/// cross-process tests need not sleep. Test builds only.
#[derive(Debug, Clone, Copy)]
pub struct OffsetClock {
    offset: Duration,
}

impl OffsetClock {
    /// The system clock plus `offset`.
    pub fn new(offset: Duration) -> Self {
        Self { offset }
    }
}

#[async_trait::async_trait]
impl crate::ports::Clock for OffsetClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc().saturating_add(self.offset)
    }

    async fn sleep(&self, duration: std::time::Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// The private key as certbot writes it in `private_key.json`: a JWK with
/// every private member (EC P-256: `d`, `x`, `y`; RSA: `n`, `e`, `d` and the
/// CRT members). For tests of the certbot import.
pub fn private_jwk(key: &ParsedPrivateKey) -> serde_json::Value {
    use base64::Engine;
    use pkcs1::der::Decode;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    if key.technology.is_rsa() {
        let info = pkcs8::PrivateKeyInfo::try_from(key.pkcs8_der()).expect("PKCS#8");
        let rsa = pkcs1::RsaPrivateKey::from_der(info.private_key).expect("PKCS#1");
        return serde_json::json!({
            "kty": "RSA",
            "n": b64(rsa.modulus.as_bytes()),
            "e": b64(rsa.public_exponent.as_bytes()),
            "d": b64(rsa.private_exponent.as_bytes()),
            "p": b64(rsa.prime1.as_bytes()),
            "q": b64(rsa.prime2.as_bytes()),
            "dp": b64(rsa.exponent1.as_bytes()),
            "dq": b64(rsa.exponent2.as_bytes()),
            "qi": b64(rsa.coefficient.as_bytes()),
        });
    }
    use aws_lc_rs::encoding::AsBigEndian;
    use aws_lc_rs::signature::KeyPair;
    let pair = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        key.pkcs8_der(),
    )
    .expect("an EC P-256 or RSA key");
    let d = pair.private_key().as_be_bytes().expect("private scalar");
    let point = pair.public_key().as_ref();
    let (x, y) = point.get(1..).unwrap_or_default().split_at(32);
    serde_json::json!({"kty": "EC", "crv": "P-256", "d": b64(d.as_ref()), "x": b64(x), "y": b64(y)})
}
