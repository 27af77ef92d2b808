//! Status sets and enumerations, with the original's codes and names.

use serde::{Deserialize, Serialize};

/// The value was not one of the enumeration's names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {what}; expected one of: {expected}")]
pub struct UnknownValue {
    /// Which enumeration.
    pub what: &'static str,
    /// The value given.
    pub value: String,
    /// The accepted names, comma separated.
    pub expected: String,
}

macro_rules! coded_enum {
    (
        $(#[$doc:meta])*
        $name:ident, $what:literal {
            $($(#[$vdoc:meta])* $variant:ident = $code:literal => $text:literal),* $(,)?
        }
        $(aliases { $($alias:literal => $avariant:ident),* $(,)? })?
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "&'static str")]
        pub enum $name {
            $($(#[$vdoc])* $variant),*
        }

        impl $name {
            /// Every value, in code order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The original's numeric code.
            pub fn code(self) -> i32 {
                match self { $($name::$variant => $code),* }
            }

            /// The name used in storage, JSON and on the command line.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }

            /// Looks a value up by its numeric code.
            pub fn from_code(code: i32) -> Option<Self> {
                match code { $($code => Some($name::$variant),)* _ => None }
            }
        }

        impl $crate::model::ClosedSet for $name {
            const NAME: &'static str = stringify!($name);
            const WHAT: &'static str = $what;
            const ALL: &'static [Self] = $name::ALL;
            $(const ALIASES: &'static [(&'static str, Self)] = &[$(($alias, $name::$avariant)),*];)?
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$name as $crate::model::ClosedSet>::parse_wire(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = UnknownValue;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                value.parse()
            }
        }

        impl From<$name> for &'static str {
            fn from(value: $name) -> Self {
                value.as_str()
            }
        }
    };
}

coded_enum!(
    /// Key algorithm and size. EC P-256 is peter's default.
    KeyTechnology, "key technology" {
        /// RSA, 2048-bit modulus.
        Rsa2048 = 1 => "RSA_2048",
        /// RSA, 3072-bit modulus.
        Rsa3072 = 2 => "RSA_3072",
        /// RSA, 4096-bit modulus.
        Rsa4096 = 3 => "RSA_4096",
        /// ECDSA on NIST P-256.
        EcP256 = 4 => "EC_P256",
        /// ECDSA on NIST P-384.
        EcP384 = 5 => "EC_P384",
    }
);

// The enum comes from a macro, so `#[default]` cannot mark the variant.
#[allow(clippy::derivable_impls)]
impl Default for KeyTechnology {
    fn default() -> Self {
        KeyTechnology::EcP256
    }
}

impl KeyTechnology {
    /// The technology of a parsed public key, if peter manages it.
    pub fn from_public_key(key: &x509_parser::public_key::PublicKey<'_>) -> Option<Self> {
        use x509_parser::public_key::PublicKey;
        match key {
            PublicKey::RSA(rsa) => match rsa.key_size() {
                2048 => Some(Self::Rsa2048),
                3072 => Some(Self::Rsa3072),
                4096 => Some(Self::Rsa4096),
                _ => None,
            },
            PublicKey::EC(ec) => match ec.key_size() {
                256 => Some(Self::EcP256),
                384 => Some(Self::EcP384),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether this is an RSA technology.
    pub fn is_rsa(self) -> bool {
        matches!(self, Self::Rsa2048 | Self::Rsa3072 | Self::Rsa4096)
    }

    /// Whether peter signs ACME requests with a key of this technology:
    /// EC P-256 (ES256) and RSA of any managed size (RS256, certbot's
    /// default). P-384 account keys are refused.
    pub fn signs_acme_accounts(self) -> bool {
        self == Self::EcP256 || self.is_rsa()
    }
}

coded_enum!(
    /// How a private key is chosen when an order is finalized.
    PrivateKeyCycle, "private key cycle" {
        /// A new key for every certificate (the default).
        SingleUse = 1 => "single_use",
        /// Reuse the key for one year, then a new one.
        SingleUseReuse1Year = 2 => "single_use__reuse_1_year",
        /// One key per account per day.
        AccountDaily = 3 => "account_daily",
        /// One key per account per week.
        AccountWeekly = 4 => "account_weekly",
        /// One unowned key per day for everything.
        GlobalDaily = 5 => "global_daily",
        /// One unowned key per week for everything.
        GlobalWeekly = 6 => "global_weekly",
        /// Whatever the ordering account's default cycle is.
        AccountDefault = 7 => "account_default",
    }
);

#[allow(clippy::derivable_impls)]
impl Default for PrivateKeyCycle {
    fn default() -> Self {
        PrivateKeyCycle::SingleUse
    }
}

coded_enum!(
    /// Where a private key came from.
    PrivateKeySource, "private key source" {
        /// The placeholder "decide at finalize" key.
        Placeholder = 0 => "placeholder",
        /// Generated by peter.
        Generated = 1 => "generated",
        /// Imported from elsewhere.
        Imported = 2 => "imported",
    }
);

coded_enum!(
    /// Where an account key came from.
    AcmeAccountKeySource, "account key source" {
        /// Generated by peter.
        Generated = 1 => "generated",
        /// Imported (PEM or certbot).
        Imported = 2 => "imported",
    }
);

coded_enum!(
    /// How an order obtains its private key.
    PrivateKeyStrategy, "private key strategy" {
        /// A key chosen up front.
        Specified = 1 => "specified",
        /// Generate a new key at finalize.
        DeferredGenerate = 2 => "deferred-generate",
        /// Pick a key by the account's cycle at finalize.
        DeferredAssociate = 3 => "deferred-associate",
        /// The chosen key became unusable; a backup was used.
        Backup = 4 => "backup",
    }
);

coded_enum!(
    /// Status of an ACME order, with peter's internal codes.
    AcmeOrderStatus, "order status" {
        /// Known locally, never fetched.
        Discovered = 0 => "*discovered*",
        /// Waiting for authorizations.
        Pending = 1 => "pending",
        /// Certificate issued.
        Valid = 2 => "valid",
        /// Failed.
        Invalid = 3 => "invalid",
        /// Being finalized.
        Processing = 7 => "processing",
        /// Ready to finalize.
        Ready = 8 => "ready",
        /// The server answered 404 for it.
        NotFound = 404 => "*404*",
        /// The server answered 406 for it.
        NotAcceptable = 406 => "*406*",
        /// Turned off locally.
        Gone = 410 => "*410*",
        /// Deactivated (a status some servers report).
        Deactivated = 999 => "deactivated",
    }
);

impl AcmeOrderStatus {
    /// Statuses in which processing can advance.
    pub const PROCESS: &'static [Self] = &[Self::Pending, Self::Ready];
    /// Statuses in which the order may be finalized.
    pub const FINALIZE: &'static [Self] = &[Self::Ready];
    /// Statuses from which a renewal may be placed.
    pub const RENEW: &'static [Self] = &[Self::Valid, Self::Ready, Self::NotFound];
    /// Statuses from which a retry may be placed.
    pub const RETRY: &'static [Self] = &[
        Self::Invalid,
        Self::NotFound,
        Self::NotAcceptable,
        Self::Deactivated,
    ];
    /// Statuses that block competing orders.
    pub const BLOCKING: &'static [Self] = &[Self::Pending];
    /// Statuses listed as active.
    pub const ACTIVE: &'static [Self] = &[Self::Pending, Self::Ready, Self::Processing];
    /// Statuses listed as finished.
    pub const FINISHED: &'static [Self] = &[Self::Invalid, Self::Valid];
    /// Statuses that count as inactive.
    pub const INACTIVE: &'static [Self] = &[
        Self::Valid,
        Self::Invalid,
        Self::NotFound,
        Self::NotAcceptable,
        Self::Gone,
    ];
    /// Statuses from which an order may not be marked invalid.
    pub const MARK_INVALID_FORBIDDEN: &'static [Self] = &[
        Self::Invalid,
        Self::Valid,
        Self::NotFound,
        Self::Deactivated,
    ];
}

coded_enum!(
    /// Status of an ACME authorization, with peter's internal codes.
    AcmeAuthorizationStatus, "authorization status" {
        /// URL seen in an order, never fetched.
        Discovered = 0 => "*discovered*",
        /// Waiting for a challenge.
        Pending = 1 => "pending",
        /// Validated.
        Valid = 2 => "valid",
        /// Failed.
        Invalid = 3 => "invalid",
        /// Deactivated by the client.
        Deactivated = 4 => "deactivated",
        /// Expired.
        Expired = 5 => "expired",
        /// Revoked by the server.
        Revoked = 6 => "revoked",
        /// The server answered 404 for it.
        NotFound = 404 => "*404*",
        /// The server answered 406 for it.
        NotAcceptable = 406 => "*406*",
    }
);

impl AcmeAuthorizationStatus {
    /// Statuses from which an authorization may be deactivated.
    pub const DEACTIVATABLE: &'static [Self] = &[Self::Pending, Self::Valid, Self::Discovered];
    /// Statuses in which the authorization may still need work.
    pub const POSSIBLY_PENDING: &'static [Self] = &[Self::Pending, Self::Discovered];
}

coded_enum!(
    /// Status of an ACME challenge, with peter's internal codes.
    AcmeChallengeStatus, "challenge status" {
        /// Known locally, never fetched.
        Discovered = 0 => "*discovered*",
        /// Waiting to be triggered.
        Pending = 1 => "pending",
        /// Passed.
        Valid = 2 => "valid",
        /// Failed.
        Invalid = 3 => "invalid",
        /// Being validated.
        Processing = 7 => "processing",
        /// The server answered 404 for it.
        NotFound = 404 => "*404*",
        /// The server answered 406 for it.
        NotAcceptable = 406 => "*406*",
        /// No longer listed by its authorization (after deactivation).
        Gone = 410 => "*410*",
    }
);

impl AcmeChallengeStatus {
    /// Statuses in which the challenge may still be answered.
    pub const POSSIBLY_ACTIVE: &'static [Self] =
        &[Self::Discovered, Self::Pending, Self::Processing];
}

coded_enum!(
    /// Challenge types.
    AcmeChallengeType, "challenge type" {
        /// HTTP-01, answered under `/.well-known/acme-challenge/`.
        Http01 = 1 => "http-01",
        /// DNS-01: a TXT record at `_acme-challenge.<name>`.
        Dns01 = 2 => "dns-01",
        /// TLS-ALPN-01.
        TlsAlpn01 = 3 => "tls-alpn-01",
    }
);

coded_enum!(
    /// How far peter's processing of an order has come.
    AcmeOrderProcessingStatus, "order processing status" {
        /// Recorded locally only.
        CreatedLocal = 1 => "created_local",
        /// Created on the ACME server.
        CreatedAcme = 2 => "created_acme",
        /// Processing started.
        ProcessingStarted = 3 => "processing_started",
        /// Processing ended well.
        ProcessingCompletedSuccess = 4 => "processing_completed_success",
        /// Processing ended badly.
        ProcessingCompletedFailure = 5 => "processing_completed_failure",
        /// Finalized.
        OrderFinalized = 6 => "order_finalized",
        /// Certificate downloaded.
        CertificateDownloaded = 7 => "certificate_downloaded",
        /// Its authorizations were deactivated.
        ProcessingDeactivated = 8 => "processing_deactivated",
    }
);

coded_enum!(
    /// The three ways an order can be processed.
    AcmeOrderProcessingStrategy, "processing strategy" {
        /// Create the order upstream and stop.
        CreateOrder = 1 => "create_order",
        /// Challenges, finalize and download in one call.
        ProcessSingle = 2 => "process_single",
        /// One step per call.
        ProcessMulti = 3 => "process_multi",
    }
    aliases { "create" => CreateOrder, "single" => ProcessSingle, "multi" => ProcessMulti }
);

coded_enum!(
    /// Why an order was placed.
    AcmeOrderType, "order type" {
        /// A new order.
        New = 1 => "new",
        /// Retry of an invalid order.
        Retry = 2 => "retry",
        /// Renewal with the same settings.
        RenewQuick = 3 => "renew_quick",
        /// Renewal with new settings.
        RenewCustom = 4 => "renew_custom",
        /// Placed by certificate-if-needed.
        CertificateIfNeeded = 5 => "certificate_if_needed",
        /// Placed by the renewal routine.
        Automated = 6 => "automated",
        /// Placed by autocert (a gateway's certificate miss).
        Autocert = 7 => "autocert",
    }
);

coded_enum!(
    /// Where a certificate request came from.
    CertificateRequestSource, "certificate request source" {
        /// Uploaded.
        Imported = 1 => "imported",
        /// Built by peter for an order.
        AcmeOrder = 2 => "acme_order",
    }
);

coded_enum!(
    /// What an ACME exchange was for (the original's event codes).
    AcmeEvent, "ACME event" {
        /// Account registration or lookup.
        NewAccount = 4 => "v2|newAccount",
        /// Order creation.
        NewOrder = 5 => "v2|newOrder",
        /// Authorization fetch.
        AuthorizationRequest = 6 => "v2|-authorization-request",
        /// Challenge trigger.
        ChallengeTrigger = 7 => "v2|-challenge-trigger",
        /// Order finalize.
        OrderFinalize = 8 => "v2|Order-finalize",
        /// Order fetch.
        OrderLocation = 9 => "v2|-order-location",
        /// Challenge passed.
        ChallengePass = 10 => "v2|-challenge-pass",
        /// Challenge failed.
        ChallengeFail = 11 => "v2|-challenge-fail",
        /// Certificate download.
        CertificateProcured = 12 => "v2|Certificate-procured",
        /// Challenge fetch.
        ChallengePostAsGet = 13 => "v2|-challenge-PostAsGet",
        /// Authorization deactivation.
        AuthorizationDeactivate = 14 => "v2|-authorization-deactivate",
        /// Account deactivation.
        AccountDeactivate = 15 => "v2|Account-deactivate",
        /// Account key rollover.
        KeyChange = 16 => "v2|keyChange",
        /// Directory fetch.
        Directory = 20 => "v2|directory",
        /// Nonce fetch.
        NewNonce = 21 => "v2|newNonce",
        /// Certificate revocation.
        RevokeCertificate = 22 => "v2|revokeCert",
        /// Renewal information (ARI) fetch.
        RenewalInfo = 23 => "v2|renewalInfo",
        /// Account update (contact).
        AccountUpdate = 24 => "v2|Account-update",
    }
);

coded_enum!(
    /// Kinds of operations event (a subset of the original's codes).
    OperationsEventType, "operations event type" {
        /// The store was initialised.
        DatabaseInitialization = 1 => "_DatabaseInitialization",
        /// An account was recorded.
        AcmeAccountInsert = 110 => "AcmeAccount__insert",
        /// An account became the global default.
        AcmeAccountMarkDefault = 122 => "AcmeAccount__mark__default",
        /// An account stopped being the global default.
        AcmeAccountMarkNotDefault = 123 => "AcmeAccount__mark__notdefault",
        /// An account was marked active locally.
        AcmeAccountMarkActive = 124 => "AcmeAccount__mark__active",
        /// An account was marked inactive locally.
        AcmeAccountMarkInactive = 125 => "AcmeAccount__mark__inactive",
        /// An account's contact or default key policy changed.
        AcmeAccountEdit = 130 => "AcmeAccount__edit",
        /// A CA certificate was recorded.
        CertificateCaInsert = 210 => "CertificateCA__insert",
        /// A CA chain was recorded.
        CertificateCaChainInsert = 230 => "CertificateCAChain__insert",
        /// A private key was recorded.
        PrivateKeyInsert = 310 => "PrivateKey__insert",
        /// A private key was marked.
        PrivateKeyMark = 320 => "PrivateKey__mark",
        /// A private key was marked compromised.
        PrivateKeyMarkCompromised = 322 => "PrivateKey__mark__compromised",
        /// A domain was recorded.
        DomainInsert = 410 => "Domain__insert",
        /// A domain was marked active or inactive.
        DomainMark = 420 => "Domain__mark",
        /// A domain's challenge type was set.
        DomainChallengeType = 430 => "Domain__challenge_type",
        /// A unique FQDN set was recorded.
        UniqueFqdnSetInsert = 510 => "UniqueFQDNSet__insert",
        /// A certificate request was recorded.
        CertificateRequestInsert = 610 => "CertificateRequest__insert",
        /// A certificate was recorded.
        CertificateSignedInsert = 710 => "CertificateSigned__insert",
        /// A certificate was marked.
        CertificateSignedMark = 720 => "CertificateSigned__mark",
        /// An ACME server was added.
        AcmeServerInsert = 1100 => "AcmeServer__insert",
        /// The default ACME server changed.
        AcmeServerMarkDefault = 1101 => "AcmeServer__mark__default",
        /// An ACME server's name or trusted CA bundle changed.
        AcmeServerEdit = 1102 => "AcmeServer__edit",
        /// An ACME server was removed.
        AcmeServerRemove = 1103 => "AcmeServer__remove",
        /// Certificates were imported in bulk.
        CertificateImport = 1010 => "CertificateSigned__import",
        /// Domains were re-published (Redis, nginx) after a change.
        Publication = 1200 => "Publication",
        /// A renewal configuration was recorded or replaced.
        RenewalConfigurationInsert = 1300 => "RenewalConfiguration__insert",
        /// Renewals of a set of names went to its backup CA.
        RenewalFailover = 1301 => "RenewalConfiguration__failover",
    }
);
