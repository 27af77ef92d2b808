//! The error type of peter's services, and the coarse kinds adapters map to
//! exit codes and HTTP statuses.

use crate::dns::{DomainNameError, FqdnSetError};
use crate::formats::FormatError;
use crate::model::UnknownValue;
use crate::model::rules::TransitionError;
use crate::ports::{AcmeError, StoreError};

/// Anything a peter service can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An invalid domain name.
    #[error(transparent)]
    DomainName(#[from] DomainNameError),
    /// An invalid set of names.
    #[error(transparent)]
    FqdnSet(#[from] FqdnSetError),
    /// Malformed or mismatched certificate material.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// An illegal state transition.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// An unknown enumeration value.
    #[error(transparent)]
    UnknownValue(#[from] UnknownValue),
    /// The store failed or refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The ACME server failed or refused.
    #[error(transparent)]
    Acme(#[from] AcmeError),
    /// A blocklisted name was used.
    #[error("`{0}` is blocklisted")]
    Blocklisted(String),
    /// The CA refused to issue for a name or address of the order
    /// (`rejectedIdentifier`): its policy forbids it, and asking again will
    /// not help.
    #[error("the ACME server will not issue for this identifier: {detail}")]
    RejectedIdentifier {
        /// The CA's explanation.
        detail: String,
    },
    /// A limit of peter's own was reached (autocert's per-name or hourly
    /// limit): try again after the given time.
    #[error("{message}; try again in {retry_after_seconds} s")]
    Throttled {
        /// Which limit, for whom.
        message: String,
        /// Seconds until the limit allows another try.
        retry_after_seconds: u64,
    },
    /// A DNS-01 method could not place or remove a record.
    #[error(transparent)]
    DnsChallenge(#[from] crate::ports::DnsChallengeError),
    /// A publisher (Redis, nginx, an export target) failed.
    #[error(transparent)]
    Publish(#[from] crate::ports::PublishError),
    /// Something the operation needs is not configured.
    #[error("{0} is not configured")]
    Unconfigured(&'static str),
    /// A field of a request is invalid.
    #[error("invalid {field}: {message}")]
    InvalidField {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// Coarse classes of failure, for exit codes and HTTP statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The caller sent something invalid (HTTP 400/422).
    InvalidInput,
    /// Something named does not exist (HTTP 404).
    NotFound,
    /// The request conflicts with the current state (HTTP 409).
    Conflict,
    /// Something the operation needs is not configured (HTTP 409; exit 2).
    Unconfigured,
    /// A dependency is down or failing: the store, a publisher, the ACME
    /// server unreachable or answering 5xx (HTTP 503).
    Unavailable,
    /// A bug or corrupt data (HTTP 500).
    Internal,
    /// The ACME server refused, or answered nonsense (HTTP 502).
    Upstream,
    /// The ACME server asks to slow down (HTTP 429).
    RateLimited,
}

impl Error {
    /// The class of this failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::DomainName(_)
            | Error::FqdnSet(_)
            | Error::Format(_)
            | Error::UnknownValue(_)
            | Error::InvalidField { .. }
            | Error::Blocklisted(_)
            | Error::RejectedIdentifier { .. } => ErrorKind::InvalidInput,
            Error::Transition(_) => ErrorKind::Conflict,
            Error::Throttled { .. } => ErrorKind::RateLimited,
            Error::Unconfigured(_) => ErrorKind::Unconfigured,
            Error::DnsChallenge(crate::ports::DnsChallengeError::NotDelegated { .. }) => {
                ErrorKind::Unconfigured
            }
            Error::Publish(_) | Error::DnsChallenge(_) => ErrorKind::Unavailable,
            Error::Store(e) => e.kind(),
            Error::Acme(AcmeError::Unsupported(_)) => ErrorKind::InvalidInput,
            Error::Acme(e) if e.problem_short_type() == Some("rateLimited") => {
                ErrorKind::RateLimited
            }
            Error::Acme(AcmeError::Transport(..))
            | Error::Acme(AcmeError::Untrusted(..))
            | Error::Acme(AcmeError::Timeout(_)) => ErrorKind::Unavailable,
            Error::Acme(e) if e.is_server_failure() => ErrorKind::Unavailable,
            Error::Acme(_) => ErrorKind::Upstream,
        }
    }
}
