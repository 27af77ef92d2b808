//! The state rules, as pure functions over plain values. Adapters apply what
//! these functions decide; they never decide themselves.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::entities::*;
use super::ids::*;
use super::status::*;

/// An illegal state transition, with the reason an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// Marking active something already active.
    #[error("already active")]
    AlreadyActive,
    /// Marking inactive something already inactive.
    #[error("already inactive")]
    AlreadyInactive,
    /// Revoking a certificate already marked revoked.
    #[error("the certificate is already revoked")]
    AlreadyRevoked,
    /// Revoking upstream a certificate the CA already revoked.
    #[error("the certificate was already revoked upstream")]
    AlreadyRevokedUpstream,
    /// Activating a revoked certificate.
    #[error("the certificate is revoked; its status can not be changed back to active")]
    CertificateRevoked,
    /// Activating a deactivated certificate.
    #[error("the certificate was deactivated and can not be activated again")]
    CertificateDeactivated,
    /// Activating a certificate whose key is compromised.
    #[error("the certificate's private key is compromised; it can not be activated")]
    CertificateKeyCompromised,
    /// A revocation is not undone.
    #[error("a revocation can not be undone")]
    Unrevoke,
    /// Compromise is permanent.
    #[error("the private key is compromised; it can not be activated")]
    PrivateKeyCompromised,
    /// Marking compromised twice.
    #[error("the private key is already marked compromised")]
    PrivateKeyAlreadyCompromised,
    /// The account's server is not the default server.
    #[error("this account is not on the default ACME server, so it can not be the global default")]
    AccountNotOnDefaultServer,
    /// The account was deactivated upstream.
    #[error("this account was deactivated; that is permanent")]
    AccountDeactivated,
    /// Marking the global default inactive.
    #[error("the global default account can not be marked inactive; choose another default first")]
    AccountIsGlobalDefault,
    /// The authorization is not in a deactivatable status.
    #[error("an authorization in status `{0}` can not be deactivated")]
    AuthorizationNotDeactivatable(AcmeAuthorizationStatus),
    /// The challenge is not in a triggerable status.
    #[error("a challenge in status `{0}` can not be triggered")]
    ChallengeNotTriggerable(AcmeChallengeStatus),
    /// The challenge's authorization is closed (deactivated, invalid,
    /// expired...): the CA would never validate it.
    #[error("the challenge's authorization is `{0}`: it can not be triggered")]
    ChallengeOfClosedAuthorization(AcmeAuthorizationStatus),
    /// The order status does not allow the action.
    #[error("an order in status `{status}` can not be {action}")]
    OrderStatus {
        /// The order's status.
        status: AcmeOrderStatus,
        /// What was attempted.
        action: &'static str,
    },
    /// A mark name that is not known.
    #[error("`{0}` is not a valid mark here")]
    UnknownMark(String),
}

crate::model::closed_set!(
    /// The marks an operator may put on a certificate.
    CertificateMark, "certificate mark" {
        /// Back in service.
        Active => "active",
        /// Out of service, reversibly.
        Inactive => "inactive",
        /// Revoked (permanent; an upstream revocation applies it too).
        Revoked => "revoked",
    }
);

/// A certificate's lifecycle flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateFlags {
    /// In service.
    pub is_active: bool,
    /// Deactivated (blocks re-activation).
    pub is_deactivated: bool,
    /// Marked revoked.
    pub is_revoked: bool,
    /// Its key is compromised.
    pub is_compromised_private_key: bool,
}

impl CertificateFlags {
    /// The flags of a newly recorded certificate.
    pub const NEW: Self = Self {
        is_active: true,
        is_deactivated: false,
        is_revoked: false,
        is_compromised_private_key: false,
    };

    /// Applies a mark: `inactive` is reversible; `revoked` also sets
    /// `is_deactivated` and is permanent; `active` is refused for a revoked,
    /// deactivated or compromised-key certificate.
    pub fn mark(self, mark: CertificateMark) -> Result<Self, TransitionError> {
        match mark {
            CertificateMark::Active => {
                if self.is_active {
                    Err(TransitionError::AlreadyActive)
                } else if self.is_revoked {
                    Err(TransitionError::CertificateRevoked)
                } else if self.is_compromised_private_key {
                    Err(TransitionError::CertificateKeyCompromised)
                } else if self.is_deactivated {
                    Err(TransitionError::CertificateDeactivated)
                } else {
                    Ok(Self {
                        is_active: true,
                        ..self
                    })
                }
            }
            CertificateMark::Inactive => {
                if !self.is_active {
                    Err(TransitionError::AlreadyInactive)
                } else {
                    Ok(Self {
                        is_active: false,
                        ..self
                    })
                }
            }
            CertificateMark::Revoked => {
                if self.is_revoked {
                    Err(TransitionError::AlreadyRevoked)
                } else {
                    Ok(Self {
                        is_active: false,
                        is_deactivated: true,
                        is_revoked: true,
                        ..self
                    })
                }
            }
        }
    }

    /// What happens to a certificate its CA revoked: the local `revoked`
    /// mark too, whatever its state, so it is never served again.
    pub fn revoked_upstream(self) -> Self {
        Self {
            is_active: false,
            is_deactivated: true,
            is_revoked: true,
            ..self
        }
    }

    /// What happens to a certificate when its key is marked compromised: it
    /// leaves service for good.
    pub fn key_compromised(self) -> Self {
        Self {
            is_active: false,
            is_deactivated: true,
            is_compromised_private_key: true,
            ..self
        }
    }
}

/// Marks a domain active or inactive. An inactive domain is left out of
/// renewals and of configuration output.
pub fn mark_domain(domain: &Domain, active: bool) -> Result<bool, TransitionError> {
    match (domain.is_active, active) {
        (true, true) => Err(TransitionError::AlreadyActive),
        (false, false) => Err(TransitionError::AlreadyInactive),
        _ => Ok(active),
    }
}

/// Whether a domain belongs in renewals and configuration output.
pub fn domain_is_managed(domain: &Domain) -> bool {
    domain.is_active
}

/// Private key flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivateKeyFlags {
    /// Usable.
    pub is_active: bool,
    /// Compromised (permanent).
    pub is_compromised: bool,
}

impl PrivateKeyFlags {
    /// Marking a key compromised deactivates it (and, through
    /// [`CertificateFlags::key_compromised`], every certificate using it).
    pub fn compromise(self) -> Result<Self, TransitionError> {
        if self.is_compromised {
            return Err(TransitionError::PrivateKeyAlreadyCompromised);
        }
        Ok(Self {
            is_active: false,
            is_compromised: true,
        })
    }

    /// Marks the key active or inactive; a compromised key stays out.
    pub fn set_active(self, active: bool) -> Result<Self, TransitionError> {
        if active && self.is_compromised {
            return Err(TransitionError::PrivateKeyCompromised);
        }
        match (self.is_active, active) {
            (true, true) => Err(TransitionError::AlreadyActive),
            (false, false) => Err(TransitionError::AlreadyInactive),
            _ => Ok(Self {
                is_active: active,
                ..self
            }),
        }
    }
}

impl From<&PrivateKey> for PrivateKeyFlags {
    fn from(key: &PrivateKey) -> Self {
        Self {
            is_active: key.is_active,
            is_compromised: key.is_compromised,
        }
    }
}

/// Refuses an account that may not order: marked inactive here or
/// deactivated at its CA.
pub fn ensure_account_usable(account: &AcmeAccount) -> Result<(), TransitionError> {
    if account.is_active {
        Ok(())
    } else {
        Err(TransitionError::AccountDeactivated)
    }
}

/// Whether `account` may become the global default, given the default server.
pub fn ensure_can_be_global_default(
    account: &AcmeAccount,
    default_server: Option<AcmeServerId>,
) -> Result<(), TransitionError> {
    if account.deactivated_at.is_some() || !account.is_active {
        return Err(TransitionError::AccountDeactivated);
    }
    if default_server != Some(account.acme_server_id) {
        return Err(TransitionError::AccountNotOnDefaultServer);
    }
    Ok(())
}

/// Checks a local active/inactive mark against the account: an account
/// deactivated at its CA is never active again.
pub fn ensure_account_markable(account: &AcmeAccount, active: bool) -> Result<(), TransitionError> {
    if account.deactivated_at.is_some() {
        return Err(TransitionError::AccountDeactivated);
    }
    match (account.is_active, active) {
        (true, true) => Err(TransitionError::AlreadyActive),
        (false, false) => Err(TransitionError::AlreadyInactive),
        _ => Ok(()),
    }
}

/// The startup rule: a global default account on a server other than the
/// default server stops being the global default. Returns the accounts to unset.
pub fn global_defaults_to_unset(
    accounts: &[AcmeAccount],
    default_server: Option<AcmeServerId>,
) -> Vec<AcmeAccountId> {
    accounts
        .iter()
        .filter(|a| a.is_global_default && Some(a.acme_server_id) != default_server)
        .map(|a| a.id)
        .collect()
}

crate::model::closed_set!(
    /// The marks an operator may put on an order.
    OrderMark, "order mark" {
        /// Treat the order as failed (local bookkeeping).
        Invalid => "invalid",
        /// Stop processing it (cancel).
        Deactivate => "deactivate",
    }
    aliases { "deactivated" => Deactivate }
);

crate::model::closed_set!(
    /// The marks an operator may put on a private key.
    PrivateKeyMark, "private key mark" {
        /// Usable again (a compromised key never is).
        Active => "active",
        /// Not used for new certificates.
        Inactive => "inactive",
        /// Compromised: permanent; its certificates are taken out of service
        /// and revoked upstream with reason keyCompromise.
        Compromised => "compromised",
    }
);

crate::model::closed_set!(
    /// The marks an operator may put on a domain.
    DomainMark, "domain mark" {
        /// Served and renewed.
        Active => "active",
        /// Neither served nor renewed.
        Inactive => "inactive",
    }
);

crate::model::closed_set!(
    /// The marks an operator may put on an ACME account.
    AccountMark, "account mark" {
        /// Make it the global default account.
        GlobalDefault => "global_default",
        /// Let it order again (a local mark; an account deactivated at
        /// its CA stays deactivated).
        Active => "active",
        /// Stop it ordering (a local mark; the CA is not told).
        Inactive => "inactive",
    }
);

/// Checks an order mark against the order's status and processing flag.
pub fn ensure_order_markable(
    mark: OrderMark,
    status: AcmeOrderStatus,
    is_processing: Option<bool>,
) -> Result<(), TransitionError> {
    match mark {
        OrderMark::Invalid if AcmeOrderStatus::MARK_INVALID_FORBIDDEN.contains(&status) => {
            Err(TransitionError::OrderStatus {
                status,
                action: "marked invalid",
            })
        }
        OrderMark::Deactivate if is_processing != Some(true) => Err(TransitionError::OrderStatus {
            status,
            action: "deactivated (it is not processing)",
        }),
        _ => Ok(()),
    }
}

/// Fails unless the authorization may be deactivated.
pub fn ensure_authorization_deactivatable(
    status: AcmeAuthorizationStatus,
) -> Result<(), TransitionError> {
    if AcmeAuthorizationStatus::DEACTIVATABLE.contains(&status) {
        Ok(())
    } else {
        Err(TransitionError::AuthorizationNotDeactivatable(status))
    }
}

/// Fails unless the challenge may be triggered: only `pending` ones may,
/// and only while their authorization may still be validated.
pub fn ensure_challenge_triggerable(
    status: AcmeChallengeStatus,
    authorization: AcmeAuthorizationStatus,
) -> Result<(), TransitionError> {
    if !AcmeAuthorizationStatus::POSSIBLY_PENDING.contains(&authorization) {
        return Err(TransitionError::ChallengeOfClosedAuthorization(
            authorization,
        ));
    }
    if status == AcmeChallengeStatus::Pending {
        Ok(())
    } else {
        Err(TransitionError::ChallengeNotTriggerable(status))
    }
}

/// A challenge as an ACME server lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerChallenge {
    /// Challenge URL.
    pub url: String,
    /// Type.
    pub challenge_type: AcmeChallengeType,
    /// Token.
    pub token: String,
    /// Status the server reports.
    pub status: AcmeChallengeStatus,
}

/// A stored challenge as the sync rule sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChallenge {
    /// Challenge URL.
    pub url: String,
    /// Stored status.
    pub status: AcmeChallengeStatus,
}

/// What an authorization sync changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationSync {
    /// The authorization's new status.
    pub status: AcmeAuthorizationStatus,
    /// Challenges to insert or update, as the server lists them.
    pub upsert: Vec<ServerChallenge>,
    /// Stored challenges the server no longer lists: they become `*410*`.
    pub gone: Vec<String>,
}

/// Reconciles stored challenges with the server's view of their
/// authorization. A stored challenge the server no longer lists has
/// disappeared (typically after the authorization was deactivated) and
/// becomes `*410*`; it is not deleted, because syncing the challenge itself
/// may show it still `pending` upstream.
pub fn sync_authorization(
    stored: &[StoredChallenge],
    server_status: AcmeAuthorizationStatus,
    server_challenges: &[ServerChallenge],
) -> AuthorizationSync {
    let gone = stored
        .iter()
        .filter(|c| c.status != AcmeChallengeStatus::Gone)
        .filter(|c| !server_challenges.iter().any(|s| s.url == c.url))
        .map(|c| c.url.clone())
        .collect();
    AuthorizationSync {
        status: server_status,
        upsert: server_challenges.to_vec(),
        gone,
    }
}

/// The status a challenge takes after syncing it directly: whatever the
/// server says, which may bring a `*410*` challenge back to `pending`.
pub fn sync_challenge(
    _stored: AcmeChallengeStatus,
    server: AcmeChallengeStatus,
) -> AcmeChallengeStatus {
    server
}

/// Whether an existing key of `cycle`, created at `created_at`, may be reused
/// at `now`: daily and weekly cycles reuse within the same calendar day or ISO
/// week (UTC); the one-year cycle within 365 days; single use never.
pub fn key_cycle_allows_reuse(
    cycle: PrivateKeyCycle,
    created_at: OffsetDateTime,
    now: OffsetDateTime,
) -> bool {
    let created = created_at.to_offset(time::UtcOffset::UTC);
    let now = now.to_offset(time::UtcOffset::UTC);
    match cycle {
        PrivateKeyCycle::SingleUse | PrivateKeyCycle::AccountDefault => false,
        PrivateKeyCycle::SingleUseReuse1Year => {
            now >= created && between(created, now) < time::Duration::days(365)
        }
        PrivateKeyCycle::AccountDaily | PrivateKeyCycle::GlobalDaily => {
            created.date() == now.date()
        }
        PrivateKeyCycle::AccountWeekly | PrivateKeyCycle::GlobalWeekly => {
            created.date().to_iso_week_date().0 == now.date().to_iso_week_date().0
                && created.date().iso_week() == now.date().iso_week()
        }
    }
}

/// Whether a key cycle is scoped to the ordering account.
pub fn key_cycle_is_account_scoped(cycle: PrivateKeyCycle) -> bool {
    matches!(
        cycle,
        PrivateKeyCycle::AccountDaily
            | PrivateKeyCycle::AccountWeekly
            | PrivateKeyCycle::SingleUseReuse1Year
    )
}

/// The preference rule on its own: the first offer (offers come upstream
/// default first) containing the earliest preferred CA, else the first offer.
pub fn choose_chain<'a>(
    offers: &'a [crate::model::CertificateChainOffer],
    preferences: &[crate::model::CertificateCaId],
) -> Option<&'a crate::model::CertificateCaChain> {
    preferences
        .iter()
        .find_map(|ca| {
            offers
                .iter()
                .find(|o| o.chain.certificate_ca_ids.contains(ca))
        })
        .or_else(|| offers.first())
        .map(|o| &o.chain)
}

/// The largest number of days a caller may look ahead (about 2,700 years:
/// far enough for any test of "everything is due", short of year 9999).
pub const MAX_DAYS: i64 = 1_000_000;

/// `now` plus `days` days, for a caller-given `days` (`peter renew --days`,
/// `expiring?days=`): refused with an error naming `days` outside
/// `0..=MAX_DAYS`, so no date arithmetic can overflow.
pub fn days_after(now: OffsetDateTime, days: i64) -> Result<OffsetDateTime, crate::Error> {
    if !(0..=MAX_DAYS).contains(&days) {
        return Err(crate::Error::InvalidField {
            field: "days",
            message: format!("{days} is not a number of days from 0 to {MAX_DAYS}"),
        });
    }
    now.checked_add(time::Duration::days(days))
        .ok_or_else(|| crate::Error::InvalidField {
            field: "days",
            message: format!("{days} days from now is not a date"),
        })
}

/// `at` plus `wait`, saturating at the largest date instead of overflowing
/// (a CA may send any Retry-After).
pub fn later_by(at: OffsetDateTime, wait: time::Duration) -> OffsetDateTime {
    at.checked_add(wait).unwrap_or(if wait.is_negative() {
        time::PrimitiveDateTime::MIN.assume_utc()
    } else {
        time::PrimitiveDateTime::MAX.assume_utc()
    })
}

/// `later - earlier`. Never overflows: dates lie within ±9999 years, whose
/// differences fit `time::Duration` (±2^63 seconds) many times over.
#[allow(clippy::arithmetic_side_effects)]
pub fn between(earlier: OffsetDateTime, later: OffsetDateTime) -> time::Duration {
    later - earlier
}

/// Refuses a challenge type a domain cannot be validated by: peter answers
/// http-01 and dns-01, and a wildcard only by dns-01.
pub fn check_domain_challenge_type(
    domain_name: &str,
    challenge_type: AcmeChallengeType,
) -> Result<(), crate::Error> {
    let refuse = |message: String| crate::Error::InvalidField {
        field: "challenge_type",
        message,
    };
    let is_ip = domain_name.parse::<std::net::IpAddr>().is_ok();
    match challenge_type {
        // RFC 8738 §7: an IP address has no DNS name to hold a TXT record.
        AcmeChallengeType::Dns01 if is_ip => Err(refuse(format!(
            "`{domain_name}` is an IP address: only http-01 validates it"
        ))),
        AcmeChallengeType::Dns01 => Ok(()),
        AcmeChallengeType::Http01 if domain_name.starts_with("*.") => Err(refuse(format!(
            "`{domain_name}` is a wildcard: only dns-01 validates it"
        ))),
        AcmeChallengeType::Http01 => Ok(()),
        other => Err(refuse(format!(
            "peter validates domains by http-01 or dns-01, not {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn caller_given_days_are_range_checked_and_dates_saturate() {
        let now = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(days_after(now, 2).unwrap(), now + time::Duration::days(2));
        for bad in [-1, MAX_DAYS + 1, 3_000_000, i64::MAX] {
            let e = days_after(now, bad).unwrap_err();
            assert!(
                matches!(e, crate::Error::InvalidField { field: "days", .. }),
                "{bad}: {e}"
            );
        }
        let huge = time::Duration::seconds(i64::MAX);
        assert_eq!(
            later_by(now, huge),
            time::PrimitiveDateTime::MAX.assume_utc()
        );
        assert_eq!(
            later_by(now, -huge),
            time::PrimitiveDateTime::MIN.assume_utc()
        );
        assert_eq!(between(now, now + time::Duration::DAY), time::Duration::DAY);
    }

    use super::*;
    use time::macros::datetime;

    fn flags(
        active: bool,
        deactivated: bool,
        revoked: bool,
        compromised: bool,
    ) -> CertificateFlags {
        CertificateFlags {
            is_active: active,
            is_deactivated: deactivated,
            is_revoked: revoked,
            is_compromised_private_key: compromised,
        }
    }

    #[test]
    fn inactive_is_reversible() {
        let off = CertificateFlags::NEW
            .mark(CertificateMark::Inactive)
            .unwrap();
        assert!(!off.is_active && !off.is_deactivated && !off.is_revoked);
        let on = off.mark(CertificateMark::Active).unwrap();
        assert_eq!(on, CertificateFlags::NEW);
    }

    #[test]
    fn marking_twice_is_refused() {
        assert_eq!(
            CertificateFlags::NEW.mark(CertificateMark::Active),
            Err(TransitionError::AlreadyActive)
        );
        let off = CertificateFlags::NEW
            .mark(CertificateMark::Inactive)
            .unwrap();
        assert_eq!(
            off.mark(CertificateMark::Inactive),
            Err(TransitionError::AlreadyInactive)
        );
    }

    #[test]
    fn revoked_sets_revoked_and_deactivated_and_is_permanent() {
        let revoked = CertificateFlags::NEW
            .mark(CertificateMark::Revoked)
            .unwrap();
        assert_eq!(revoked, flags(false, true, true, false));
        assert_eq!(
            revoked.mark(CertificateMark::Active),
            Err(TransitionError::CertificateRevoked)
        );
        assert_eq!(
            revoked.mark(CertificateMark::Revoked),
            Err(TransitionError::AlreadyRevoked)
        );
        assert!(
            "unrevoke".parse::<CertificateMark>().is_err(),
            "there is no mark that undoes a revocation"
        );
    }

    #[test]
    fn an_upstream_revocation_applies_the_permanent_local_mark() {
        for start in [
            CertificateFlags::NEW,
            CertificateFlags::NEW
                .mark(CertificateMark::Inactive)
                .unwrap(),
            CertificateFlags::NEW
                .mark(CertificateMark::Revoked)
                .unwrap(),
        ] {
            let after = start.revoked_upstream();
            assert!(!after.is_active && after.is_revoked && after.is_deactivated);
            assert_eq!(
                after.mark(CertificateMark::Active),
                Err(TransitionError::CertificateRevoked)
            );
        }
    }

    #[test]
    fn revoked_certificate_cannot_be_reactivated_even_after_inactive() {
        let revoked = CertificateFlags::NEW
            .mark(CertificateMark::Revoked)
            .unwrap();
        assert_eq!(
            revoked.mark(CertificateMark::Inactive),
            Err(TransitionError::AlreadyInactive)
        );
    }

    #[test]
    fn deactivated_or_compromised_certificates_cannot_be_activated() {
        assert_eq!(
            flags(false, true, false, false).mark(CertificateMark::Active),
            Err(TransitionError::CertificateDeactivated)
        );
        let compromised = CertificateFlags::NEW.key_compromised();
        assert_eq!(compromised, flags(false, true, false, true));
        assert_eq!(
            compromised.mark(CertificateMark::Active),
            Err(TransitionError::CertificateKeyCompromised)
        );
    }

    #[test]
    fn compromise_deactivates_the_key_for_good() {
        let key = PrivateKeyFlags {
            is_active: true,
            is_compromised: false,
        };
        let compromised = key.compromise().unwrap();
        assert!(!compromised.is_active && compromised.is_compromised);
        assert_eq!(
            compromised.compromise(),
            Err(TransitionError::PrivateKeyAlreadyCompromised)
        );
        assert_eq!(
            compromised.set_active(true),
            Err(TransitionError::PrivateKeyCompromised)
        );
    }

    fn domain(active: bool) -> Domain {
        Domain {
            id: DomainId(1),
            domain_name: "example.com".into(),
            identifier_type: IdentifierType::Dns,
            is_active: active,
            certificate_signed_id_latest_single: None,
            certificate_signed_id_latest_multi: None,
            challenge_type: AcmeChallengeType::Http01,
            created_at: datetime!(2026-01-01 0:00 UTC),
        }
    }

    #[test]
    fn domain_marks_toggle_and_refuse_repeats() {
        assert_eq!(mark_domain(&domain(true), false), Ok(false));
        assert_eq!(mark_domain(&domain(false), true), Ok(true));
        assert_eq!(
            mark_domain(&domain(true), true),
            Err(TransitionError::AlreadyActive)
        );
        assert_eq!(
            mark_domain(&domain(false), false),
            Err(TransitionError::AlreadyInactive)
        );
        assert!(!domain_is_managed(&domain(false)));
    }

    fn account(id: i64, server: i64, global: bool) -> AcmeAccount {
        AcmeAccount {
            id: AcmeAccountId(id),
            acme_server_id: AcmeServerId(server),
            contact: None,
            account_url: None,
            terms_of_service: None,
            is_active: true,
            is_global_default: global,
            private_key_technology: KeyTechnology::EcP256,
            private_key_cycle: PrivateKeyCycle::SingleUse,
            deactivated_at: None,
            created_at: datetime!(2026-01-01 0:00 UTC),
            key: AcmeAccountKey {
                id: AcmeAccountKeyId(id),
                acme_account_id: AcmeAccountId(id),
                is_active: true,
                key_technology: KeyTechnology::EcP256,
                key_pem: String::new(),
                spki_sha256: String::new(),
                source: AcmeAccountKeySource::Generated,
                created_at: datetime!(2026-01-01 0:00 UTC),
            },
        }
    }

    #[test]
    fn startup_unsets_a_global_default_on_another_server() {
        let accounts = [account(1, 1, true), account(2, 2, false)];
        assert_eq!(
            global_defaults_to_unset(&accounts, Some(AcmeServerId(2))),
            vec![AcmeAccountId(1)]
        );
        assert!(global_defaults_to_unset(&accounts, Some(AcmeServerId(1))).is_empty());
        assert_eq!(
            global_defaults_to_unset(&accounts, None),
            vec![AcmeAccountId(1)]
        );
    }

    #[test]
    fn only_an_account_on_the_default_server_can_be_global_default() {
        assert!(ensure_can_be_global_default(&account(1, 1, false), Some(AcmeServerId(1))).is_ok());
        assert_eq!(
            ensure_can_be_global_default(&account(1, 1, false), Some(AcmeServerId(2))),
            Err(TransitionError::AccountNotOnDefaultServer)
        );
    }

    /// The four steps of the original's "Oddities" illustration.
    #[test]
    fn deactivated_authorization_turns_vanished_challenges_to_410_and_a_challenge_sync_restores_them()
     {
        let challenge_url = "https://ca.example/chall/1";
        let server_challenge = ServerChallenge {
            url: challenge_url.into(),
            challenge_type: AcmeChallengeType::Http01,
            token: "tok".into(),
            status: AcmeChallengeStatus::Pending,
        };
        // 1. Create the order: the authorization is only discovered.
        let mut auth_status = AcmeAuthorizationStatus::Discovered;
        let mut stored: Vec<StoredChallenge> = Vec::new();
        assert_eq!(auth_status.as_str(), "*discovered*");

        // 2. Load the authorization: pending, with a pending challenge.
        let sync = sync_authorization(
            &stored,
            AcmeAuthorizationStatus::Pending,
            std::slice::from_ref(&server_challenge),
        );
        auth_status = sync.status;
        stored = sync
            .upsert
            .iter()
            .map(|c| StoredChallenge {
                url: c.url.clone(),
                status: c.status,
            })
            .collect();
        assert_eq!(auth_status, AcmeAuthorizationStatus::Pending);
        assert_eq!(stored[0].status, AcmeChallengeStatus::Pending);

        // 3. Deactivate the authorization: the server lists no challenge any more.
        ensure_authorization_deactivatable(auth_status).unwrap();
        let sync = sync_authorization(&stored, AcmeAuthorizationStatus::Deactivated, &[]);
        auth_status = sync.status;
        for url in &sync.gone {
            stored.iter_mut().find(|c| &c.url == url).unwrap().status = AcmeChallengeStatus::Gone;
        }
        assert_eq!(auth_status, AcmeAuthorizationStatus::Deactivated);
        assert_eq!(stored[0].status, AcmeChallengeStatus::Gone);
        assert_eq!(stored[0].status.as_str(), "*410*");
        assert!(ensure_authorization_deactivatable(auth_status).is_err());

        // 4. Sync the challenge itself: upstream it is still pending.
        stored[0].status = sync_challenge(stored[0].status, AcmeChallengeStatus::Pending);
        assert_eq!(stored[0].status, AcmeChallengeStatus::Pending);
    }

    #[test]
    fn only_pending_challenges_can_be_triggered() {
        let open = AcmeAuthorizationStatus::Pending;
        assert!(ensure_challenge_triggerable(AcmeChallengeStatus::Pending, open).is_ok());
        assert!(ensure_challenge_triggerable(AcmeChallengeStatus::Gone, open).is_err());
        assert!(ensure_challenge_triggerable(AcmeChallengeStatus::Valid, open).is_err());
        // A pending challenge of a deactivated authorization: refused here,
        // instead of waiting for a CA that will never validate it.
        assert_eq!(
            ensure_challenge_triggerable(
                AcmeChallengeStatus::Pending,
                AcmeAuthorizationStatus::Deactivated
            ),
            Err(TransitionError::ChallengeOfClosedAuthorization(
                AcmeAuthorizationStatus::Deactivated
            ))
        );
    }

    #[test]
    fn key_cycles_reuse_within_their_period_only() {
        let created = datetime!(2026-03-02 10:00 UTC); // a Monday
        use PrivateKeyCycle::*;
        assert!(!key_cycle_allows_reuse(SingleUse, created, created));
        assert!(key_cycle_allows_reuse(
            AccountDaily,
            created,
            datetime!(2026-03-02 23:59 UTC)
        ));
        assert!(!key_cycle_allows_reuse(
            AccountDaily,
            created,
            datetime!(2026-03-03 00:00 UTC)
        ));
        assert!(key_cycle_allows_reuse(
            GlobalWeekly,
            created,
            datetime!(2026-03-08 23:00 UTC)
        ));
        assert!(!key_cycle_allows_reuse(
            GlobalWeekly,
            created,
            datetime!(2026-03-09 00:00 UTC)
        ));
        assert!(key_cycle_allows_reuse(
            SingleUseReuse1Year,
            created,
            datetime!(2027-03-01 00:00 UTC)
        ));
        assert!(!key_cycle_allows_reuse(
            SingleUseReuse1Year,
            created,
            datetime!(2027-03-02 10:00 UTC)
        ));
    }

    #[test]
    fn status_codes_round_trip() {
        for s in AcmeChallengeStatus::ALL {
            assert_eq!(AcmeChallengeStatus::from_code(s.code()), Some(*s));
            assert_eq!(s.as_str().parse::<AcmeChallengeStatus>().unwrap(), *s);
        }
        assert_eq!(AcmeOrderStatus::Gone.as_str(), "*410*");
        assert_eq!(AcmeOrderStatus::NotFound.code(), 404);
        assert_eq!(AcmeOrderStatus::Deactivated.code(), 999);
        assert!("bogus".parse::<AcmeOrderStatus>().is_err());
    }
}
