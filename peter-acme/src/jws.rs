//! peter's own small JWS layer (RFC 7515 flattened JSON; ES256 for EC P-256
//! account keys, RS256 for RSA ones). It makes the requests instant-acme
//! cannot: POST and POST-as-GET to an arbitrary authorization, challenge or
//! certificate URL, external account binding, keyChange, and every request
//! of an RSA account (instant-acme signs with P-256 only). It keeps a small
//! pool of nonces per server.

use std::sync::Mutex;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair as RsaKeyPair;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use instant_acme::BodyWrapper;
use peter_core::ports::{AcmeError, Problem};

use crate::http::{LoggingClient, RawResponse, retry_after_seconds};

enum SigningKey {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

/// An account key able to sign JWS requests.
pub struct Signer {
    key: SigningKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({})", self.algorithm())
    }
}

impl Signer {
    /// A signer for a PKCS#8 EC P-256 or RSA key. Other keys are refused.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, AcmeError> {
        let key = if let Ok(ec) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der) {
            SigningKey::Ec(ec)
        } else if let Ok(rsa) = RsaKeyPair::from_pkcs8(der) {
            SigningKey::Rsa(rsa)
        } else {
            return Err(AcmeError::Key(
                "ACME account keys must be EC P-256 or RSA".into(),
            ));
        };
        Ok(Self {
            key,
            rng: SystemRandom::new(),
        })
    }

    /// Whether the key is RSA: instant-acme cannot sign with it, so every
    /// request of such an account goes through this layer.
    pub fn is_rsa(&self) -> bool {
        matches!(self.key, SigningKey::Rsa(_))
    }

    /// The JWS `alg`.
    pub fn algorithm(&self) -> &'static str {
        match self.key {
            SigningKey::Ec(_) => "ES256",
            SigningKey::Rsa(_) => "RS256",
        }
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> serde_json::Value {
        match &self.key {
            SigningKey::Ec(key) => {
                // An uncompressed P-256 point: 0x04, then 32 bytes of x and 32 of y.
                let point = key.public_key().as_ref();
                let coordinates = point.get(1..).unwrap_or_default();
                let (x, y) = coordinates.split_at(coordinates.len().min(32));
                serde_json::json!({
                    "crv": "P-256",
                    "kty": "EC",
                    "x": URL_SAFE_NO_PAD.encode(x),
                    "y": URL_SAFE_NO_PAD.encode(y),
                })
            }
            SigningKey::Rsa(key) => {
                let public = key.public_key();
                serde_json::json!({
                    "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
                    "kty": "RSA",
                    "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
                })
            }
        }
    }

    /// The RFC 7638 thumbprint of the public key, base64url.
    pub fn thumbprint(&self) -> String {
        // The required members in lexicographic order, no whitespace, as
        // RFC 7638 requires.
        let jwk = self.jwk();
        let member = |name: &str| jwk.get(name).and_then(|v| v.as_str()).unwrap_or_default();
        let canonical = match self.key {
            SigningKey::Ec(_) => format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                member("x"),
                member("y")
            ),
            SigningKey::Rsa(_) => format!(
                r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                member("e"),
                member("n")
            ),
        };
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
        URL_SAFE_NO_PAD.encode(digest.as_ref())
    }

    /// The external account binding for a newAccount request (RFC 8555
    /// §7.3.4): this key's JWK as payload, MACed with the CA's HMAC key
    /// (HS256) under its key id, for the newAccount `url`.
    pub fn external_account_binding(
        &self,
        binding: &peter_core::ports::ExternalAccountBinding,
        url: &str,
    ) -> serde_json::Value {
        let protected = serde_json::json!({
            "alg": "HS256",
            "kid": binding.key_id(),
            "url": url,
        });
        let protected = URL_SAFE_NO_PAD.encode(protected.to_string());
        let payload = URL_SAFE_NO_PAD.encode(self.jwk().to_string());
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, binding.hmac_key());
        let tag = aws_lc_rs::hmac::sign(&key, format!("{protected}.{payload}").as_bytes());
        serde_json::json!({
            "protected": protected,
            "payload": payload,
            "signature": URL_SAFE_NO_PAD.encode(tag.as_ref()),
        })
    }

    /// A flattened JWS: `kid` when given, else the public `jwk`.
    pub fn sign(
        &self,
        kid: Option<&str>,
        nonce: &str,
        url: &str,
        payload: Option<&serde_json::Value>,
    ) -> Result<Vec<u8>, AcmeError> {
        let jws = self.flattened(kid, Some(nonce), url, payload)?;
        Ok(serde_json::to_vec(&jws).unwrap_or_default())
    }

    /// The inner JWS of a keyChange (RFC 8555 §7.3.5), signed by this (the
    /// new) key: its `jwk`, no nonce, the account and the old key as payload.
    pub fn key_change_inner(
        &self,
        url: &str,
        account: &str,
        old_key: &Signer,
    ) -> Result<serde_json::Value, AcmeError> {
        let payload = serde_json::json!({"account": account, "oldKey": old_key.jwk()});
        self.flattened(None, None, url, Some(&payload))
    }

    fn flattened(
        &self,
        kid: Option<&str>,
        nonce: Option<&str>,
        url: &str,
        payload: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, AcmeError> {
        let mut protected = serde_json::Map::new();
        protected.insert("alg".into(), self.algorithm().into());
        if let Some(nonce) = nonce {
            protected.insert("nonce".into(), nonce.into());
        }
        protected.insert("url".into(), url.into());
        match kid {
            Some(kid) => protected.insert("kid".into(), kid.into()),
            None => protected.insert("jwk".into(), self.jwk()),
        };
        let protected = serde_json::Value::Object(protected);
        let protected = URL_SAFE_NO_PAD.encode(protected.to_string());
        let payload = match payload {
            Some(p) => URL_SAFE_NO_PAD.encode(p.to_string()),
            None => String::new(),
        };
        let signing_input = format!("{protected}.{payload}");
        let failed = |_| AcmeError::Key("signing failed".into());
        let signature = match &self.key {
            SigningKey::Ec(key) => key
                .sign(&self.rng, signing_input.as_bytes())
                .map_err(failed)?
                .as_ref()
                .to_vec(),
            SigningKey::Rsa(key) => {
                let mut out = vec![0u8; key.public_modulus_len()];
                key.sign(
                    &RSA_PKCS1_SHA256,
                    &self.rng,
                    signing_input.as_bytes(),
                    &mut out,
                )
                .map_err(failed)?;
                out
            }
        };
        Ok(serde_json::json!({
            "protected": protected,
            "payload": payload,
            "signature": URL_SAFE_NO_PAD.encode(signature),
        }))
    }
}

/// Nonces handed out by one server's responses, used once each.
#[derive(Default)]
pub struct NoncePool(Mutex<Vec<String>>);

impl std::fmt::Debug for NoncePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NoncePool")
    }
}

impl NoncePool {
    fn take(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).pop()
    }

    fn put(&self, nonce: String) {
        let mut pool = self.0.lock().unwrap_or_else(|e| e.into_inner());
        pool.push(nonce);
        if pool.len() > 16 {
            pool.remove(0);
        }
    }
}

fn nonce_of(response: &RawResponse) -> Option<String> {
    response
        .headers
        .get("replay-nonce")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The problem a response carries, as an error.
pub fn server_error(response: &RawResponse) -> AcmeError {
    let mut problem: Problem = serde_json::from_slice(&response.body).unwrap_or(Problem {
        problem_type: None,
        detail: Some(format!("HTTP {}", response.status)),
        status: Some(response.status),
    });
    if problem.short_type() == "badNonce" {
        // Its detail quotes the rejected nonce, which must not be kept.
        problem.detail = Some("the server rejected the anti-replay nonce".into());
    }
    AcmeError::Server {
        problem,
        http_status: Some(response.status),
        retry_after_seconds: retry_after_seconds(&response.headers),
    }
}

/// Signs and sends a POST (`payload` `None`: POST-as-GET), retrying a
/// rejected nonce twice with a fresh one.
pub async fn post(
    client: &LoggingClient,
    nonces: &NoncePool,
    new_nonce_url: &str,
    signer: &Signer,
    kid: Option<&str>,
    url: &str,
    payload: Option<&serde_json::Value>,
) -> Result<RawResponse, AcmeError> {
    let mut attempt = 0u32;
    loop {
        attempt = attempt.saturating_add(1);
        let nonce = match nonces.take() {
            Some(n) => n,
            None => {
                let request = ::http::Request::head(new_nonce_url)
                    .header("user-agent", "peter")
                    .body(BodyWrapper::default())
                    .map_err(|e| AcmeError::protocol_from(e.to_string(), e))?;
                let response = client.send(request).await?;
                nonce_of(&response)
                    .ok_or_else(|| AcmeError::protocol("newNonce gave no Replay-Nonce"))?
            }
        };
        let body = signer.sign(kid, &nonce, url, payload)?;
        let request = ::http::Request::post(url)
            .header("content-type", "application/jose+json")
            .header("user-agent", "peter")
            .body(BodyWrapper::from(body))
            .map_err(|e| AcmeError::protocol_from(e.to_string(), e))?;
        let response = client.send(request).await?;
        if let Some(n) = nonce_of(&response) {
            nonces.put(n);
        }
        if response.status >= 400 {
            let err = server_error(&response);
            if err.problem_short_type() == Some("badNonce") && attempt < 3 {
                continue;
            }
            return Err(err);
        }
        return Ok(response);
    }
}

/// `rel="alternate"` URLs of a `Link` header set.
pub fn alternate_links(headers: &::http::HeaderMap) -> Vec<String> {
    let mut out = Vec::new();
    for value in headers.get_all("link") {
        let Ok(text) = value.to_str() else { continue };
        for part in text.split(',') {
            let part = part.trim();
            if !part.contains("rel=\"alternate\"") && !part.contains("rel=alternate") {
                continue;
            }
            if let Some(url) = part
                .split_once('<')
                .and_then(|(_, rest)| rest.split_once('>'))
                .map(|(url, _)| url)
            {
                out.push(url.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternate_links_are_parsed() {
        let mut h = ::http::HeaderMap::new();
        h.append(
            "link",
            "<https://ca/dir>;rel=\"index\", <https://ca/cert/1/alt/1>;rel=\"alternate\""
                .parse()
                .unwrap(),
        );
        h.append(
            "link",
            "<https://ca/cert/1/alt/2>; rel=\"alternate\""
                .parse()
                .unwrap(),
        );
        assert_eq!(
            alternate_links(&h),
            vec!["https://ca/cert/1/alt/1", "https://ca/cert/1/alt/2"]
        );
    }

    #[test]
    fn p384_account_keys_are_refused_with_a_clear_error() {
        let key = peter_core::formats::ParsedPrivateKey::generate(
            peter_core::model::KeyTechnology::EcP384,
        )
        .unwrap();
        let err = Signer::from_pkcs8(key.pkcs8_der()).unwrap_err();
        assert!(err.to_string().contains("P-256 or RSA"));
    }

    /// An RS256 signature verifies with the public key the JWK carries.
    #[test]
    fn an_rsa_signature_verifies_against_its_jwk() {
        use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
        let key = peter_core::formats::ParsedPrivateKey::generate(
            peter_core::model::KeyTechnology::Rsa2048,
        )
        .unwrap();
        let s = Signer::from_pkcs8(key.pkcs8_der()).unwrap();
        assert!(s.is_rsa());
        let body: serde_json::Value =
            serde_json::from_slice(&s.sign(Some("kid"), "nonce", "https://ca/x", None).unwrap())
                .unwrap();
        let field = |name: &str| body[name].as_str().unwrap().to_string();
        let protected: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(field("protected")).unwrap()).unwrap();
        assert_eq!(protected["alg"], "RS256");
        let jwk = s.jwk();
        let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
        let e = URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap();
        assert_eq!(n.len(), 256);
        let input = format!("{}.{}", field("protected"), field("payload"));
        let signature = URL_SAFE_NO_PAD.decode(field("signature")).unwrap();
        RsaPublicKeyComponents { n: &n, e: &e }
            .verify(&RSA_PKCS1_2048_8192_SHA256, input.as_bytes(), &signature)
            .expect("the signature verifies");
        assert_eq!(s.thumbprint().len(), 43);
    }

    #[test]
    fn the_thumbprint_is_43_base64url_characters() {
        let key = peter_core::formats::ParsedPrivateKey::generate(
            peter_core::model::KeyTechnology::EcP256,
        )
        .unwrap();
        let s = Signer::from_pkcs8(key.pkcs8_der()).unwrap();
        assert_eq!(s.thumbprint().len(), 43);
    }
}
