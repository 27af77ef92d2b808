//! One identifier type per stored object, so an order id cannot be passed
//! where a certificate id is expected.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<i64> for $name {
            fn from(value: i64) -> Self {
                Self(value)
            }
        }

        impl From<$name> for i64 {
            fn from(value: $name) -> Self {
                value.0
            }
        }
    )*};
}

id_type!(
    /// Identifies an [`AcmeServer`](super::AcmeServer).
    AcmeServerId,
    /// Identifies an [`AcmeAccount`](super::AcmeAccount).
    AcmeAccountId,
    /// Identifies an [`AcmeAccountKey`](super::AcmeAccountKey).
    AcmeAccountKeyId,
    /// Identifies a [`PrivateKey`](super::PrivateKey).
    PrivateKeyId,
    /// Identifies a [`Domain`](super::Domain).
    DomainId,
    /// Identifies a [`DomainBlocklisted`](super::DomainBlocklisted) entry.
    DomainBlocklistedId,
    /// Identifies a [`DomainAutocert`](super::DomainAutocert) attempt.
    DomainAutocertId,
    /// Identifies a [`RenewalConfiguration`](super::RenewalConfiguration).
    RenewalConfigurationId,
    /// Identifies a stored [`UniqueFqdnSetRecord`](super::UniqueFqdnSetRecord).
    UniqueFqdnSetId,
    /// Identifies a [`CertificateRequest`](super::CertificateRequest).
    CertificateRequestId,
    /// Identifies a [`CertificateSigned`](super::CertificateSigned).
    CertificateSignedId,
    /// Identifies a [`CertificateCa`](super::CertificateCa).
    CertificateCaId,
    /// Identifies a [`CertificateCaChain`](super::CertificateCaChain).
    CertificateCaChainId,
    /// Identifies an [`AcmeOrder`](super::AcmeOrder).
    AcmeOrderId,
    /// Identifies an [`AcmeAuthorization`](super::AcmeAuthorization).
    AcmeAuthorizationId,
    /// Identifies an [`AcmeChallenge`](super::AcmeChallenge).
    AcmeChallengeId,
    /// Identifies an [`AcmeChallengePoll`](super::AcmeChallengePoll).
    AcmeChallengePollId,
    /// Identifies an [`AcmeChallengeUnknownPoll`](super::AcmeChallengeUnknownPoll).
    AcmeChallengeUnknownPollId,
    /// Identifies an [`AcmeEventLog`](super::AcmeEventLog) row.
    AcmeEventLogId,
    /// Identifies an [`OperationsEvent`](super::OperationsEvent).
    OperationsEventId,
    /// Identifies an [`AlertDelivery`](super::AlertDelivery).
    AlertDeliveryId,
);
