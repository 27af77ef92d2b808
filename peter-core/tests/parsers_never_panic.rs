//! Property tests for everything that parses untrusted input: arbitrary
//! bytes, mangled PEM and real material cut or flipped at random go into
//! each parser, which must answer with a value or a typed error and never
//! panic. Bounded for CI (2,048 cases per property, fixed seed per run from
//! proptest's default runner).

use peter_core::dns::{DomainName, UniqueFqdnSet};
use peter_core::formats::{
    ParsedCertificate, ParsedCsr, ParsedPrivateKey, link_chain, parse_certificates_pem,
    private_key_from_jwk,
};
use peter_core::model::KeyTechnology;
use peter_core::testkit::TestPki;
use proptest::prelude::*;

fn material() -> &'static (String, String, Vec<u8>, String) {
    static MATERIAL: std::sync::OnceLock<(String, String, Vec<u8>, String)> =
        std::sync::OnceLock::new();
    MATERIAL.get_or_init(|| {
        let pki = TestPki::new("proptest");
        let leaf = pki.issue(&["p.example.com", "q.example.com"], KeyTechnology::EcP256);
        (
            format!("{}{}", leaf.certificate.pem(), pki.chain_pem()),
            leaf.key.pem().to_string(),
            leaf.certificate.der().to_vec(),
            pki.chain_with_root_pem(),
        )
    })
}

/// `text` with bytes at random places replaced, and cut at a random length.
fn mangle(text: &[u8], edits: &[(usize, u8)], cut: usize) -> Vec<u8> {
    let mut out = text.to_vec();
    for (at, byte) in edits {
        if !out.is_empty() {
            let i = at % out.len();
            out[i] = *byte;
        }
    }
    out.truncate(cut % (out.len() + 1));
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = ParsedCertificate::from_bytes(&bytes);
        let _ = ParsedCertificate::from_der(&bytes);
        let _ = ParsedPrivateKey::from_bytes(&bytes);
        let _ = ParsedCsr::from_der(&bytes);
        let text = String::from_utf8_lossy(&bytes);
        let _ = ParsedCertificate::from_pem(&text);
        let _ = ParsedPrivateKey::from_pem(&text);
        let _ = ParsedCsr::from_pem(&text);
        let _ = parse_certificates_pem(&text);
        let _ = private_key_from_jwk(&text);
        let _ = DomainName::parse(&text);
    }

    #[test]
    fn mangled_real_material_never_panics(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
        cut in any::<usize>(),
    ) {
        let (bundle, key, der, chain) = material();
        let bundle = String::from_utf8_lossy(&mangle(bundle.as_bytes(), &edits, cut)).into_owned();
        let key = String::from_utf8_lossy(&mangle(key.as_bytes(), &edits, cut)).into_owned();
        let der = mangle(der, &edits, cut);
        let _ = ParsedCertificate::from_der(&der);
        let _ = ParsedPrivateKey::from_pem(&key);
        if let Ok(certs) = parse_certificates_pem(&bundle)
            && let Some(leaf) = certs.first().cloned()
        {
            let _ = link_chain(&leaf, certs);
            let _ = leaf.unique_fqdn_set();
        }
        if let (Ok(pool), Ok(leaf)) = (parse_certificates_pem(chain), ParsedCertificate::from_der(&der)) {
            let _ = link_chain(&leaf, pool);
        }
    }

    #[test]
    fn domain_names_either_parse_to_a_normal_form_or_are_refused(
        name in "[a-zA-Z0-9.*_\\-\u{e9}\u{fc}\u{3b1}\u{0} ]{0,300}"
    ) {
        if let Ok(parsed) = DomainName::parse(&name) {
            // What parses is stable: parsing its own form gives it back.
            let again = DomainName::parse(parsed.as_str()).unwrap();
            prop_assert_eq!(again.as_str(), parsed.as_str());
            prop_assert!(parsed.as_str().len() <= 253);
        }
        let _ = UniqueFqdnSet::parse(name.split(' '));
    }
}
