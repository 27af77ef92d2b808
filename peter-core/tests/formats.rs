//! Parsing, conversion and chain linking, on material made at test time.

use peter_core::Error;
use peter_core::formats::*;
use peter_core::model::KeyTechnology;
use peter_core::ports::ManualClock;
use peter_core::services::import::{CertificateUpload, prepare_certificate_import};
use peter_core::testkit::TestPki;
use time::{Duration, OffsetDateTime};

fn clock() -> ManualClock {
    ManualClock::new(OffsetDateTime::now_utc())
}

#[test]
fn every_supported_key_technology_generates_and_round_trips() {
    for tech in [
        KeyTechnology::EcP256,
        KeyTechnology::EcP384,
        KeyTechnology::Rsa2048,
    ] {
        let key = ParsedPrivateKey::generate(tech).unwrap();
        assert_eq!(key.technology, tech);
        assert!(key.pem().starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(key.pem().ends_with("-----END PRIVATE KEY-----\n"));
        let again = ParsedPrivateKey::from_pem(key.pem()).unwrap();
        assert_eq!(again.spki_sha256, key.spki_sha256);
        let from_der = ParsedPrivateKey::from_bytes(key.pkcs8_der()).unwrap();
        assert_eq!(from_der.pkcs8_der(), key.pkcs8_der());
        assert!(
            !format!("{key:?}").contains("PRIVATE"),
            "Debug must not show key material"
        );
    }
}

#[test]
fn large_rsa_keys_generate() {
    for tech in [KeyTechnology::Rsa3072, KeyTechnology::Rsa4096] {
        assert_eq!(ParsedPrivateKey::generate(tech).unwrap().technology, tech);
    }
}

/// PKCS#1 and SEC1 keys (as `openssl genrsa` / `openssl ecparam -genkey`
/// write them) parse to the same key as their PKCS#8 form.
#[test]
fn pkcs1_and_sec1_keys_normalise_to_pkcs8() {
    use std::process::Command;
    let dir = std::env::temp_dir().join(format!("peter-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rsa = dir.join("rsa.pem");
    let ec = dir.join("ec.pem");
    let ok = Command::new("openssl")
        .args(["genrsa", "-traditional", "-out"])
        .arg(&rsa)
        .arg("2048")
        .status()
        .expect("openssl must be installed")
        .success();
    assert!(ok);
    let ok = Command::new("openssl")
        .args(["ecparam", "-name", "prime256v1", "-genkey", "-out"])
        .arg(&ec)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let rsa_text = std::fs::read_to_string(&rsa).unwrap();
    assert!(rsa_text.contains("BEGIN RSA PRIVATE KEY"));
    let rsa_key = ParsedPrivateKey::from_pem(&rsa_text).unwrap();
    assert_eq!(rsa_key.technology, KeyTechnology::Rsa2048);
    assert!(rsa_key.pem().contains("BEGIN PRIVATE KEY"));
    let ec_text = std::fs::read_to_string(&ec).unwrap();
    assert!(ec_text.contains("BEGIN EC PARAMETERS") && ec_text.contains("BEGIN EC PRIVATE KEY"));
    let ec_key = ParsedPrivateKey::from_pem(&ec_text).unwrap();
    assert_eq!(ec_key.technology, KeyTechnology::EcP256);
    // openssl agrees on the PKCS#8 form's public key.
    let pkcs8_path = dir.join("ec8.pem");
    std::fs::write(&pkcs8_path, ec_key.pem()).unwrap();
    let out = Command::new("openssl")
        .args(["pkey", "-pubout", "-outform", "DER", "-in"])
        .arg(&pkcs8_path)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, ec_key.spki_der());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn certificate_facts_are_extracted() {
    let pki = TestPki::new("facts");
    let leaf = pki.issue(&["www.example.com", "example.com"], KeyTechnology::EcP256);
    let cert = &leaf.certificate;
    assert_eq!(cert.dns_names, vec!["www.example.com", "example.com"]);
    assert_eq!(cert.key_technology, Some(KeyTechnology::EcP256));
    assert_eq!(cert.fingerprint_sha1, sha1_hex(cert.der()));
    assert_eq!(cert.fingerprint_sha1.len(), 40);
    assert_eq!(cert.spki_sha256, leaf.key.spki_sha256);
    assert!(cert.subject.contains("www.example.com"));
    assert!(cert.issuer.contains("facts Test Intermediate"));
    assert!(!cert.is_ca && !cert.is_self_signed);
    assert!(pki.root.is_self_signed && pki.root.is_ca);
    assert_eq!(
        cert.unique_fqdn_set().unwrap().canonical_string(),
        "example.com,www.example.com"
    );
    // PEM <-> DER round trip is exact.
    assert_eq!(pem_to_der(cert.pem(), PEM_CERTIFICATE).unwrap(), cert.der());
    assert_eq!(ParsedCertificate::from_bytes(cert.der()).unwrap(), *cert);
}

#[test]
fn pem_is_normalised_to_lf_and_one_trailing_newline() {
    let pki = TestPki::new("norm");
    let leaf = pki.issue(&["a.example.com"], KeyTechnology::EcP256);
    let crlf = leaf.certificate.pem().replace('\n', "\r\n") + "\r\n\r\n";
    let parsed = ParsedCertificate::from_pem(&crlf).unwrap();
    assert_eq!(parsed.pem(), leaf.certificate.pem());
    assert!(!parsed.pem().contains('\r'));
    assert!(parsed.pem().ends_with("-----\n") && !parsed.pem().ends_with("\n\n"));
}

#[test]
fn chains_link_in_any_order_and_drop_the_root() {
    let pki = TestPki::new("link");
    let leaf = pki.issue(&["a.example.com"], KeyTechnology::EcP256);
    let pool = parse_certificates_pem(&pki.chain_with_root_pem()).unwrap();
    let chain = link_chain(&leaf.certificate, pool).unwrap();
    assert_eq!(chain.intermediates, vec![pki.intermediate.clone()]);
    assert_eq!(chain.root.as_ref(), Some(&pki.root));
    let full = fullchain_pem(&leaf.certificate, &chain);
    assert_eq!(
        full,
        format!("{}{}", leaf.certificate.pem(), pki.intermediate.pem())
    );
    assert!(!full.contains(&pki.root.pem()[30..90]));
}

#[test]
fn a_chain_missing_its_link_names_the_issuer_sought() {
    let pki = TestPki::new("one");
    let other = TestPki::new("two");
    let leaf = pki.issue(&["a.example.com"], KeyTechnology::EcP256);
    let err = link_chain(&leaf.certificate, vec![other.intermediate.clone()]).unwrap_err();
    match err {
        FormatError::ChainMissingLink { issuer, .. } => {
            assert!(issuer.contains("one Test Intermediate"), "{issuer}")
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_chain_is_linked_by_signature_not_by_name() {
    // Two intermediates with the same name but different keys: only the one
    // whose key signed the leaf may link.
    let pki = TestPki::new("same");
    let impostor = TestPki::new("same");
    let leaf = pki.issue(&["a.example.com"], KeyTechnology::EcP256);
    assert_eq!(pki.intermediate.subject, impostor.intermediate.subject);
    assert!(link_chain(&leaf.certificate, vec![impostor.intermediate.clone()]).is_err());
    assert!(link_chain(&leaf.certificate, vec![pki.intermediate.clone()]).is_ok());
}

#[test]
fn csrs_are_built_parsed_and_checked() {
    let key = ParsedPrivateKey::generate(KeyTechnology::EcP256).unwrap();
    let set = peter_core::dns::UniqueFqdnSet::parse(["b.example.com", "a.example.com"]).unwrap();
    let csr = ParsedCsr::build(&key, &set).unwrap();
    assert_eq!(csr.spki_sha256, key.spki_sha256);
    assert_eq!(csr.unique_fqdn_set().unwrap(), set);
    let again = ParsedCsr::from_pem(csr.pem()).unwrap();
    assert_eq!(again.der(), csr.der());
    // A flipped bit in the signature is caught.
    let mut der = csr.der().to_vec();
    let last = der.len() - 3;
    der[last] ^= 0x01;
    assert!(matches!(
        ParsedCsr::from_der(&der),
        Err(FormatError::MalformedCertificateRequest(_))
    ));
}

#[test]
fn bad_input_gets_distinct_typed_errors() {
    let pki = TestPki::new("bad");
    let leaf = pki.issue(&["a.example.com"], KeyTechnology::EcP256);
    let garbage_pem = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
    assert!(matches!(
        ParsedCertificate::from_pem("hello"),
        Err(FormatError::NoPemBlock { .. })
    ));
    assert!(matches!(
        ParsedCertificate::from_pem(garbage_pem),
        Err(FormatError::MalformedPem { .. })
    ));
    assert!(matches!(
        ParsedCertificate::from_pem(leaf.key.pem()),
        Err(FormatError::WrongPemType { .. })
    ));
    assert!(matches!(
        ParsedCertificate::from_der(b"\x30\x03\x02\x01\x01"),
        Err(FormatError::MalformedCertificate(_))
    ));
    let valid_b64_garbage = der_to_pem("CERTIFICATE", b"not a certificate at all");
    assert!(matches!(
        ParsedCertificate::from_pem(&valid_b64_garbage),
        Err(FormatError::MalformedCertificate(_))
    ));
    assert!(matches!(
        ParsedPrivateKey::from_pem(leaf.certificate.pem()),
        Err(FormatError::WrongPemType { .. })
    ));
    assert!(matches!(
        ParsedPrivateKey::from_pem(&der_to_pem("PRIVATE KEY", b"junk")),
        Err(FormatError::MalformedPrivateKey(_))
    ));
    assert!(matches!(
        ParsedPrivateKey::from_pem(&der_to_pem("ENCRYPTED PRIVATE KEY", b"junk")),
        Err(FormatError::EncryptedPrivateKey)
    ));
    assert!(matches!(
        ParsedPrivateKey::from_bytes(b"\x00\x01\x02"),
        Err(FormatError::MalformedPrivateKey(_))
    ));
    assert!(matches!(
        ParsedCsr::from_pem(leaf.certificate.pem()),
        Err(FormatError::WrongPemType { .. })
    ));
    let other_key = ParsedPrivateKey::generate(KeyTechnology::EcP256).unwrap();
    assert_eq!(
        other_key.ensure_matches(&leaf.certificate),
        Err(FormatError::KeyMismatch)
    );
    // Two certificates where one is wanted.
    let two = format!("{}{}", leaf.certificate.pem(), pki.intermediate.pem());
    assert!(matches!(
        ParsedCertificate::from_pem(&two),
        Err(FormatError::UnexpectedCount { count: 2, .. })
    ));
}

#[test]
fn prepare_import_checks_key_chain_and_names() {
    let pki = TestPki::new("prep");
    let clock = clock();
    let leaf = pki.issue(&["a.example.com"], KeyTechnology::EcP256);
    let chain = pki.chain_pem();
    let ok = prepare_certificate_import(leaf.upload(Some(&chain)), &clock).unwrap();
    assert!(!ok.is_expired);
    assert_eq!(ok.chain.intermediates.len(), 1);

    let other = pki.issue(&["b.example.com"], KeyTechnology::EcP256);
    let mismatched = CertificateUpload {
        certificate_pem: leaf.certificate.pem(),
        private_key_pem: other.key.pem(),
        chain_pem: None,
    };
    assert!(matches!(
        prepare_certificate_import(mismatched, &clock),
        Err(Error::Format(FormatError::KeyMismatch))
    ));

    let bad_name = pki.issue(&["bad_name.example.com"], KeyTechnology::EcP256);
    assert!(matches!(
        prepare_certificate_import(bad_name.upload(None), &clock),
        Err(Error::Format(FormatError::InvalidDomainName { .. }))
    ));
}

#[test]
fn an_expired_certificate_is_flagged_not_refused() {
    let pki = TestPki::new("old");
    let now = OffsetDateTime::now_utc();
    let leaf = pki.issue_window(
        &["old.example.com"],
        KeyTechnology::EcP256,
        now - Duration::days(200),
        now - Duration::days(110),
    );
    let prepared = prepare_certificate_import(leaf.upload(None), &clock()).unwrap();
    assert!(prepared.is_expired);
}

#[test]
fn jwk_keys_convert_for_p256_and_rsa_and_a_bad_one_is_refused_clearly() {
    for technology in [KeyTechnology::EcP256, KeyTechnology::Rsa2048] {
        let key = ParsedPrivateKey::generate(technology).unwrap();
        let jwk = peter_core::testkit::private_jwk(&key);
        let parsed = private_key_from_jwk(&jwk.to_string()).unwrap();
        assert_eq!(parsed.spki_sha256, key.spki_sha256, "{technology}");
        assert_eq!(parsed.technology, technology);
    }
    // RSA without its CRT members cannot be written as PKCS#1.
    let rsa = serde_json::json!({"kty": "RSA", "n": "AQAB", "e": "AQAB", "d": "AQAB"});
    let err = private_key_from_jwk(&rsa.to_string()).unwrap_err();
    assert!(
        matches!(&err, FormatError::MalformedPrivateKey(m) if m.contains("`p`")),
        "{err}"
    );
    // Members that do not make one key are refused by the key check.
    let mut wrong = peter_core::testkit::private_jwk(
        &ParsedPrivateKey::generate(KeyTechnology::Rsa2048).unwrap(),
    );
    wrong["d"] = "AQAB".into();
    assert!(private_key_from_jwk(&wrong.to_string()).is_err());
    let p384 = serde_json::json!({"kty": "EC", "crv": "P-384", "d": "AQAB"});
    assert!(matches!(
        private_key_from_jwk(&p384.to_string()),
        Err(FormatError::UnsupportedKey(_))
    ));
    assert!(matches!(
        private_key_from_jwk("{"),
        Err(FormatError::MalformedPrivateKey(_))
    ));
}

#[test]
fn uploads_refuse_a_ca_as_leaf_an_empty_chain_and_an_overlong_chain() {
    let pki = TestPki::new("limits");
    let clock = clock();
    let leaf = pki.issue(&["limits.example.com"], KeyTechnology::EcP256);
    let root_key = pki.root_key().serialize_pem();
    let ca_as_leaf = CertificateUpload {
        certificate_pem: pki.root.pem(),
        private_key_pem: &root_key,
        chain_pem: None,
    };
    assert!(matches!(
        prepare_certificate_import(ca_as_leaf, &clock),
        Err(Error::Format(FormatError::CaCertificateAsLeaf))
    ));
    for empty in ["", "  \n\n"] {
        assert!(matches!(
            prepare_certificate_import(leaf.upload(Some(empty)), &clock),
            Err(Error::Format(FormatError::EmptyChain))
        ));
    }
    // The intermediate eleven times: refused by count, before any parsing.
    let long = pki.chain_pem().repeat(11);
    let err = prepare_certificate_import(leaf.upload(Some(&long)), &clock).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Format(FormatError::ChainTooLong { count: 11, max: 10 })
        ),
        "{err}"
    );
    // A larger limit takes it (duplicates collapse into one link).
    let ok = peter_core::services::import::prepare_certificate_import_with(
        leaf.upload(Some(&long)),
        &clock,
        20,
    )
    .unwrap();
    assert_eq!(ok.chain.intermediates.len(), 1);
}

#[test]
fn unsupported_keys_are_named_for_what_they_are() {
    use aws_lc_rs::signature::{ECDSA_P521_SHA512_ASN1_SIGNING, EcdsaKeyPair};
    let p521 = EcdsaKeyPair::generate_pkcs8(
        &ECDSA_P521_SHA512_ASN1_SIGNING,
        &aws_lc_rs::rand::SystemRandom::new(),
    )
    .unwrap();
    let err = ParsedPrivateKey::from_bytes(p521.as_ref()).unwrap_err();
    assert!(err.to_string().contains("EC P-521"), "{err}");
}
