//! The ACME port: what the order services need from an ACME server, in
//! peter's terms. The adapter (`peter-acme`) speaks RFC 8555 and records
//! every exchange in the AcmeEventLog; nothing here knows HTTP or JWS.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::dns::UniqueFqdnSet;
use crate::formats::ParsedPrivateKey;
use crate::model::rules::ServerChallenge;
use crate::model::*;

/// An RFC 7807 problem document from an ACME server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Problem {
    /// `urn:ietf:params:acme:error:...`
    #[serde(rename = "type", default)]
    pub problem_type: Option<String>,
    /// Human-readable detail.
    #[serde(default)]
    pub detail: Option<String>,
    /// HTTP status, when the document carries one.
    #[serde(default)]
    pub status: Option<u16>,
}

impl Problem {
    /// The short name after the ACME URN prefix (`badNonce`, `rateLimited`, ...).
    pub fn short_type(&self) -> &str {
        self.problem_type
            .as_deref()
            .map(|t| t.rsplit(':').next().unwrap_or(t))
            .unwrap_or("")
    }
}

/// Why an ACME operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AcmeError {
    /// The server answered with a problem document.
    #[error(
        "the ACME server {}: {} ({}){}",
        if .http_status.is_some_and(|s| s >= 500) { "failed" } else { "refused" },
        .problem.detail.as_deref().unwrap_or("no detail"),
        .problem.problem_type.as_deref().unwrap_or("no type"),
        .retry_after_seconds.map(|s| format!("; retry after {s} s")).unwrap_or_default()
    )]
    Server {
        /// The problem.
        problem: Problem,
        /// HTTP status.
        http_status: Option<u16>,
        /// Retry-After in seconds, when given.
        retry_after_seconds: Option<i64>,
    },
    /// The server could not be reached (refused, reset, no route, DNS).
    #[error("cannot reach the ACME server: {0}")]
    Transport(String, #[source] Option<Cause>),
    /// The server's TLS certificate is not trusted: give the CA bundle that
    /// signed it, or fix the URL. Retrying does not help.
    #[error("the ACME server's TLS certificate is not trusted: {0}")]
    Untrusted(String, #[source] Option<Cause>),
    /// The server's answer did not make sense.
    #[error("unexpected answer from the ACME server: {0}")]
    Protocol(String, #[source] Option<Cause>),
    /// The server does not offer what was asked (a profile, ARI, ...).
    #[error("the ACME server does not support {0}")]
    Unsupported(String),
    /// The account key cannot be used for signing.
    #[error("unusable account key: {0}")]
    Key(String),
    /// Waiting for the server took too long.
    #[error("timed out waiting for the ACME server: {0}")]
    Timeout(String),
}

/// The error an ACME or store failure came from, kept for `source()`.
pub type Cause = std::sync::Arc<dyn std::error::Error + Send + Sync>;

impl AcmeError {
    /// The server could not be reached.
    pub fn transport(message: impl Into<String>) -> Self {
        AcmeError::Transport(message.into(), None)
    }

    /// The server could not be reached, because of `cause`.
    pub fn transport_from(
        message: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        AcmeError::Transport(message.into(), Some(std::sync::Arc::new(cause)))
    }

    /// The server's answer did not make sense.
    pub fn protocol(message: impl Into<String>) -> Self {
        AcmeError::Protocol(message.into(), None)
    }

    /// The server's answer did not make sense, because of `cause`.
    pub fn protocol_from(
        message: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        AcmeError::Protocol(message.into(), Some(std::sync::Arc::new(cause)))
    }

    /// The problem type's short name, if the server sent a problem.
    pub fn problem_short_type(&self) -> Option<&str> {
        match self {
            AcmeError::Server { problem, .. } => Some(problem.short_type()),
            _ => None,
        }
    }

    /// Whether a retry of the same step may succeed: a bad nonce, a
    /// transport hiccup, or the CA failing (any 5xx answer).
    pub fn is_retryable(&self) -> bool {
        matches!(self.problem_short_type(), Some("badNonce"))
            || matches!(self, AcmeError::Transport(..))
            || self.is_server_failure()
    }

    /// The CA (or its edge) answered 5xx: it failed, it did not decide.
    pub fn is_server_failure(&self) -> bool {
        matches!(
            self,
            AcmeError::Server {
                http_status: Some(status),
                ..
            } if *status >= 500
        )
    }

    /// Whether the CA itself decided against the request (a problem answered
    /// with a 4xx, other than a rejected nonce). Only a refusal fails an
    /// order; a fault on the way or a failing CA leaves it resumable.
    pub fn is_refusal(&self) -> bool {
        matches!(self, AcmeError::Server { .. })
            && !self.is_server_failure()
            && !matches!(self.problem_short_type(), Some("badNonce"))
    }
}

/// The credentials a CA gives for binding a new ACME account to an account
/// held with it (RFC 8555 §7.3.4, "external account binding"): a key id
/// and an HMAC key. The key never appears in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct ExternalAccountBinding {
    key_id: String,
    hmac_key: Vec<u8>,
}

impl std::fmt::Debug for ExternalAccountBinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalAccountBinding")
            .field("key_id", &self.key_id)
            .field("hmac_key", &"<redacted>")
            .finish()
    }
}

impl ExternalAccountBinding {
    /// Parses the key id and the HMAC key as CAs hand them out: base64url
    /// (padding and the standard alphabet are accepted too).
    pub fn parse(key_id: &str, hmac_key: &str) -> Result<Self, crate::Error> {
        use base64::Engine;
        let key_id = key_id.trim();
        if key_id.is_empty() || key_id.len() > 512 || key_id.chars().any(char::is_control) {
            return Err(crate::Error::InvalidField {
                field: "eab_kid",
                message: "give the key id the CA showed (1 to 512 printable characters)".into(),
            });
        }
        let text: String = hmac_key
            .trim()
            .trim_end_matches('=')
            .chars()
            .map(|c| match c {
                '+' => '-',
                '/' => '_',
                c => c,
            })
            .collect();
        let hmac_key = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.as_bytes())
            .ok()
            .filter(|k| (16..=512).contains(&k.len()))
            .ok_or_else(|| crate::Error::InvalidField {
                field: "eab_hmac_key",
                message: "give the HMAC key the CA showed, base64url-encoded (16 to 512 bytes)"
                    .into(),
            })?;
        Ok(Self {
            key_id: key_id.to_string(),
            hmac_key,
        })
    }

    /// The key id (`kid` of the binding).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The raw HMAC key.
    pub fn hmac_key(&self) -> &[u8] {
        &self.hmac_key
    }
}

/// What the directory offers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DirectoryInfo {
    /// Profile names (`meta.profiles`).
    pub profiles: Vec<String>,
    /// Whether `renewalInfo` (ARI) is offered.
    pub supports_ari: bool,
    /// Terms of service URL.
    pub terms_of_service: Option<String>,
    /// Whether new accounts must be bound to an external account
    /// (`meta.externalAccountRequired`).
    pub external_account_required: bool,
}

/// An account as the adapter needs it to sign requests.
#[derive(Clone)]
pub struct AccountContext {
    /// The server.
    pub server: AcmeServer,
    /// The account (its `account_url` must be set for anything but registration).
    pub account: AcmeAccount,
}

impl std::fmt::Debug for AccountContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountContext")
            .field("server", &self.server.name)
            .field("account", &self.account.id)
            .finish()
    }
}

/// Which stored objects an exchange concerns (for the event log).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventRefs {
    /// The account.
    pub acme_account_id: Option<AcmeAccountId>,
    /// The order.
    pub acme_order_id: Option<AcmeOrderId>,
    /// The authorization.
    pub acme_authorization_id: Option<AcmeAuthorizationId>,
    /// The challenge.
    pub acme_challenge_id: Option<AcmeChallengeId>,
    /// The certificate.
    pub certificate_signed_id: Option<CertificateSignedId>,
}

/// An order as the server describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOrder {
    /// Order URL.
    pub url: String,
    /// Status.
    pub status: AcmeOrderStatus,
    /// Authorization URLs.
    pub authorizations: Vec<String>,
    /// Finalize URL.
    pub finalize_url: String,
    /// Certificate URL once valid.
    pub certificate_url: Option<String>,
    /// Expiry.
    pub expires: Option<OffsetDateTime>,
    /// Problem, when invalid.
    pub error: Option<Problem>,
    /// Retry-After of the answer, in seconds: how long to wait before asking again.
    pub retry_after_seconds: Option<i64>,
}

/// An authorization as the server describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAuthorization {
    /// Authorization URL.
    pub url: String,
    /// Status.
    pub status: AcmeAuthorizationStatus,
    /// The DNS name.
    pub identifier: String,
    /// Whether it is for a wildcard.
    pub wildcard: bool,
    /// Expiry.
    pub expires: Option<OffsetDateTime>,
    /// Challenges of the types peter knows.
    pub challenges: Vec<ServerChallenge>,
}

/// A challenge as the server describes it, with its problem when failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerChallengeState {
    /// The challenge.
    pub challenge: ServerChallenge,
    /// Its problem, when invalid.
    pub error: Option<Problem>,
}

/// A certificate as downloaded: one entry per chain the server offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadedCertificate {
    /// PEM fullchains: the default first, then each alternate.
    pub fullchains: Vec<String>,
}

/// A renewal window (RFC 9773).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewalWindow {
    /// Start of the suggested window.
    pub start: OffsetDateTime,
    /// End of the suggested window.
    pub end: OffsetDateTime,
    /// When to ask again (from Retry-After).
    pub retry_after: OffsetDateTime,
    /// The CA's page explaining the window, when it gives one (`explanationURL`).
    pub explanation_url: Option<String>,
    /// When the CA gave this answer.
    pub fetched_at: OffsetDateTime,
}

crate::model::closed_set!(
    /// Revocation reasons (RFC 5280) a subscriber may give.
    RevocationReason, "revocation reason" {
        /// 0
        Unspecified => "unspecified",
        /// 1
        KeyCompromise => "keyCompromise",
        /// 4
        Superseded => "superseded",
        /// 5
        CessationOfOperation => "cessationOfOperation",
    }
    aliases { "key_compromise" => KeyCompromise, "cessation_of_operation" => CessationOfOperation }
);

impl RevocationReason {
    /// The RFC 5280 code.
    pub fn code(self) -> u8 {
        match self {
            Self::Unspecified => 0,
            Self::KeyCompromise => 1,
            Self::Superseded => 4,
            Self::CessationOfOperation => 5,
        }
    }
}

/// An ACME server client.
#[async_trait]
pub trait AcmeClient: Send + Sync {
    /// Reads the server's directory.
    async fn directory(&self, server: &AcmeServer) -> Result<DirectoryInfo, AcmeError>;
    /// Reads a directory that is not recorded yet (or afresh, for a server
    /// being edited), trusting `ca_bundle_pem` when given; nothing is cached.
    async fn probe_directory(
        &self,
        directory_url: &str,
        ca_bundle_pem: Option<&str>,
    ) -> Result<DirectoryInfo, AcmeError>;
    /// Registers an account for `key` (or, with `only_return_existing`, looks it up),
    /// bound to an external account when `binding` is given; returns its URL.
    async fn register_account(
        &self,
        server: &AcmeServer,
        key: &ParsedPrivateKey,
        contact: Option<&str>,
        only_return_existing: bool,
        binding: Option<&ExternalAccountBinding>,
        refs: EventRefs,
    ) -> Result<String, AcmeError>;
    /// Replaces the account's contact at its CA (`None`: no contact).
    async fn update_account_contact(
        &self,
        ctx: &AccountContext,
        contact: Option<&str>,
    ) -> Result<(), AcmeError>;
    /// Deactivates the account upstream (permanent).
    async fn deactivate_account(&self, ctx: &AccountContext) -> Result<(), AcmeError>;
    /// Rolls the account over to `new_key` (RFC 8555 keyChange), which may
    /// be of another technology than the current key.
    async fn change_account_key(
        &self,
        ctx: &AccountContext,
        new_key: &ParsedPrivateKey,
    ) -> Result<(), AcmeError>;
    /// Places a new order.
    async fn new_order(
        &self,
        ctx: &AccountContext,
        names: &UniqueFqdnSet,
        replaces: Option<&str>,
        profile: Option<&str>,
        refs: EventRefs,
    ) -> Result<ServerOrder, AcmeError>;
    /// Fetches an order.
    async fn fetch_order(
        &self,
        ctx: &AccountContext,
        url: &str,
        refs: EventRefs,
    ) -> Result<ServerOrder, AcmeError>;
    /// Fetches an authorization.
    async fn fetch_authorization(
        &self,
        ctx: &AccountContext,
        url: &str,
        refs: EventRefs,
    ) -> Result<ServerAuthorization, AcmeError>;
    /// Deactivates an authorization.
    async fn deactivate_authorization(
        &self,
        ctx: &AccountContext,
        url: &str,
        refs: EventRefs,
    ) -> Result<ServerAuthorization, AcmeError>;
    /// Fetches a challenge.
    async fn fetch_challenge(
        &self,
        ctx: &AccountContext,
        url: &str,
        refs: EventRefs,
    ) -> Result<ServerChallengeState, AcmeError>;
    /// Tells the server a challenge is ready to be validated.
    async fn trigger_challenge(
        &self,
        ctx: &AccountContext,
        url: &str,
        refs: EventRefs,
    ) -> Result<ServerChallengeState, AcmeError>;
    /// The HTTP-01 key authorization for a token (`token.thumbprint`).
    fn key_authorization(&self, ctx: &AccountContext, token: &str) -> Result<String, AcmeError>;
    /// Sends the CSR to the order's finalize URL.
    async fn finalize_order(
        &self,
        ctx: &AccountContext,
        order: &ServerOrder,
        csr_der: &[u8],
        refs: EventRefs,
    ) -> Result<ServerOrder, AcmeError>;
    /// Downloads a certificate and every alternate chain.
    async fn download_certificate(
        &self,
        ctx: &AccountContext,
        certificate_url: &str,
        refs: EventRefs,
    ) -> Result<DownloadedCertificate, AcmeError>;
    /// Revokes a certificate (signed by the account key).
    async fn revoke_certificate(
        &self,
        ctx: &AccountContext,
        certificate_der: &[u8],
        reason: RevocationReason,
        refs: EventRefs,
    ) -> Result<(), AcmeError>;
    /// Fetches a certificate's renewal window (ARI).
    async fn renewal_info(
        &self,
        server: &AcmeServer,
        certificate_der: &[u8],
        refs: EventRefs,
    ) -> Result<RenewalWindow, AcmeError>;
    /// The ARI identifier of a certificate (`aki.serial`, base64url).
    fn certificate_identifier(&self, certificate_der: &[u8]) -> Result<String, AcmeError>;
}

/// Makes the ACME client the facade uses, recording its exchanges in `events`.
pub trait AcmeClientFactory: Send + Sync {
    /// The client.
    fn client(
        &self,
        events: std::sync::Arc<dyn crate::ports::EventStore>,
        clock: std::sync::Arc<dyn crate::ports::Clock>,
    ) -> std::sync::Arc<dyn AcmeClient>;
}

impl<F> AcmeClientFactory for F
where
    F: Fn(
            std::sync::Arc<dyn crate::ports::EventStore>,
            std::sync::Arc<dyn crate::ports::Clock>,
        ) -> std::sync::Arc<dyn AcmeClient>
        + Send
        + Sync,
{
    fn client(
        &self,
        events: std::sync::Arc<dyn crate::ports::EventStore>,
        clock: std::sync::Arc<dyn crate::ports::Clock>,
    ) -> std::sync::Arc<dyn AcmeClient> {
        self(events, clock)
    }
}

/// The TXT record a DNS-01 challenge needs (RFC 8555 §8.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsChallengeRecord {
    /// The identifier being validated, without any `*.` (`example.com`).
    pub domain: String,
    /// The record's owner name: `_acme-challenge.example.com`.
    pub fqdn: String,
    /// The TXT value: base64url(SHA-256(key authorization)).
    pub value: String,
}

impl DnsChallengeRecord {
    /// The record for `domain` (a `*.` is dropped) and a key authorization.
    pub fn new(domain: &str, key_authorization: &str) -> Self {
        use base64::Engine;
        let domain = domain.strip_prefix("*.").unwrap_or(domain).to_string();
        let digest =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key_authorization.as_bytes());
        Self {
            fqdn: format!("_acme-challenge.{domain}"),
            domain,
            value: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref()),
        }
    }
}

/// Why a DNS-01 method could not place or remove a record.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DnsChallengeError {
    /// The delegation of `_acme-challenge.<name>` to peter's own DNS is
    /// missing or points elsewhere; nothing was sent to the CA.
    #[error(
        "`{record}` must be a CNAME to `{target}` (peter's DNS answers there){found}; create it in the name's DNS, then order again"
    )]
    NotDelegated {
        /// `_acme-challenge.example.com`
        record: String,
        /// `<label>.<peter's zone>`
        target: String,
        /// What the resolver answered instead, as `: it is ...`.
        found: String,
    },
    /// The method ran and failed.
    #[error("DNS-01 ({method}) could not {action} the TXT record `{fqdn}`: {message}")]
    Failed {
        /// The method (`exec`, ...).
        method: String,
        /// `add` or `remove`.
        action: &'static str,
        /// The record's name.
        fqdn: String,
        /// What went wrong, bounded and free of secrets.
        message: String,
    },
    /// The method did not finish in time.
    #[error("DNS-01 ({method}) did not {action} the TXT record `{fqdn}` within {seconds} s")]
    TimedOut {
        /// The method.
        method: String,
        /// `add` or `remove`.
        action: &'static str,
        /// The record's name.
        fqdn: String,
        /// The limit.
        seconds: u64,
    },
}

/// A way to publish DNS-01 TXT records (an exec hook, RFC 2136, peter's own
/// DNS). `present` returns once the record can be seen by the CA.
#[async_trait]
pub trait DnsChallengeSolver: Send + Sync {
    /// The method's name, for errors and the challenge record.
    fn method(&self) -> &str;
    /// For peter's own DNS: the zone the `_acme-challenge` names are
    /// delegated to (`None`: the method publishes in the name's own zone).
    fn delegation_zone(&self) -> Option<&str> {
        None
    }
    /// Checks, before an order is sent, that `domain` (no `*.`) can be
    /// validated this way (peter's own DNS: the delegation's CNAME exists).
    async fn prepare(&self, _domain: &str) -> Result<(), DnsChallengeError> {
        Ok(())
    }
    /// Adds the TXT value (other values of the same name stay).
    async fn present(&self, record: &DnsChallengeRecord) -> Result<(), DnsChallengeError>;
    /// Removes the TXT value.
    async fn clean_up(&self, record: &DnsChallengeRecord) -> Result<(), DnsChallengeError>;
}

/// The CNAME an operator creates so that peter's own DNS answers a name's
/// DNS-01 challenges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsDelegation {
    /// `_acme-challenge.example.com` (a wildcard and its apex share it).
    pub record: String,
    /// `<label>.<peter's zone>`: the CNAME's target.
    pub target: String,
}

/// A new random delegation label: 20 lowercase base32 characters (100 bits).
pub fn new_delegation_label() -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut bytes = [0u8; 20];
    // A failing system random source leaves zeros; the store's uniqueness
    // check then refuses a second such label rather than sharing it.
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    bytes
        .iter()
        .map(|b| {
            let i = usize::from(b & 31);
            char::from(*ALPHABET.get(i).unwrap_or(&b'a'))
        })
        .collect()
}
