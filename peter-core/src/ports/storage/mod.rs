//! The storage port: everything peter records goes through one trait per
//! aggregate ([`AccountStore`], [`CertificateStore`], [`DomainStore`],
//! [`CaStore`], [`OrderStore`], [`LeaseStore`], [`EventStore`],
//! [`ListingStore`]); [`Store`] is all of them at once.
//!
//! Every method that changes more than one row is atomic: it either happens
//! entirely or not at all. Methods that record content (keys, certificates,
//! chains, names) de-duplicate it and report whether a row was created.

use crate::error::ErrorKind;
use crate::model::rules::TransitionError;

mod accounts;
mod cas;
mod certificates;
mod domains;
mod events;
mod leases;
mod listings;
mod orders;

pub use accounts::*;
pub use cas::*;
pub use certificates::*;
pub use domains::*;
pub use events::*;
pub use leases::*;
pub use listings::*;
pub use orders::*;

/// Why the store failed or refused.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist.
    #[error("{entity} {id} was not found")]
    NotFound {
        /// What kind of object.
        entity: &'static str,
        /// The id or name looked up.
        id: String,
    },
    /// A uniqueness rule was violated (a name or URL already taken).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The requested change breaks a state rule.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The database cannot be reached.
    #[error("the store is unavailable: {0}")]
    Unavailable(String, #[source] Option<crate::ports::Cause>),
    /// The database failed.
    #[error("store failure: {0}")]
    Backend(String, #[source] Option<crate::ports::Cause>),
    /// Stored data violates an invariant.
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// A write under a renewal lease that this node no longer holds (it
    /// expired, or another node took it over): nothing was written.
    #[error("the renewal lease was lost: {0}")]
    Fenced(String),
    /// A fault injected by a test (test builds only).
    #[cfg(feature = "testkit")]
    #[error("injected fault at {0}")]
    InjectedFault(&'static str),
}

impl StoreError {
    /// The class of this failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            StoreError::NotFound { .. } => ErrorKind::NotFound,
            StoreError::Conflict(_) | StoreError::Transition(_) | StoreError::Fenced(_) => {
                ErrorKind::Conflict
            }
            StoreError::Unavailable(..) => ErrorKind::Unavailable,
            StoreError::Backend(..) | StoreError::Corrupt(_) => ErrorKind::Internal,
            #[cfg(feature = "testkit")]
            StoreError::InjectedFault(_) => ErrorKind::Internal,
        }
    }

    /// The database cannot be reached, because of `cause`.
    pub fn unavailable(
        message: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StoreError::Unavailable(message.into(), Some(std::sync::Arc::new(cause)))
    }

    /// The database failed, because of `cause`.
    pub fn backend(
        message: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StoreError::Backend(message.into(), Some(std::sync::Arc::new(cause)))
    }

    /// Shorthand for a not-found error.
    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        StoreError::NotFound {
            entity,
            id: id.to_string(),
        }
    }
}

/// Result of store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// An id and whether the call created the row (false: it already existed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Created<T> {
    /// The row's id.
    pub id: T,
    /// Whether this call created it.
    pub created: bool,
}

/// Which page of a list to read (pages count from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Page number, from 1.
    pub page: u64,
    /// Items per page, at least 1.
    pub per_page: u64,
}

impl Page {
    /// Page `page` (from 1) of `per_page` items; zero values are raised to 1.
    pub fn new(page: u64, per_page: u64) -> Self {
        Self {
            page: page.max(1),
            per_page: per_page.clamp(1, 1000),
        }
    }

    /// Rows to skip (a page far past any list skips everything: the value
    /// saturates at what SQL's signed 64-bit OFFSET takes).
    pub fn offset(&self) -> u64 {
        self.page
            .saturating_sub(1)
            .saturating_mul(self.per_page)
            .min(i64::MAX as u64)
    }
}

impl Default for Page {
    fn default() -> Self {
        Self::new(1, 50)
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paged<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// Items in the whole list.
    pub total_items: u64,
    /// The page asked for.
    pub page: Page,
}

impl<T> Paged<T> {
    /// A page of a list that has nothing in it.
    pub fn empty(page: Page) -> Self {
        Self {
            items: Vec::new(),
            total_items: 0,
            page,
        }
    }

    /// The next page number, if there is one.
    pub fn page_next(&self) -> Option<u64> {
        (self.page.page.saturating_mul(self.page.per_page) < self.total_items)
            .then(|| self.page.page.checked_add(1))
            .flatten()
    }
}

/// The certificate store ("SSL Minnow"): every aggregate's port at once.
/// Services that touch several aggregates take a `&dyn Store`; an adapter
/// implements each aggregate's trait and gets this one for free.
pub trait Store:
    AccountStore
    + CertificateStore
    + DomainStore
    + CaStore
    + OrderStore
    + LeaseStore
    + EventStore
    + ListingStore
{
}

impl<T> Store for T where
    T: AccountStore
        + CertificateStore
        + DomainStore
        + CaStore
        + OrderStore
        + LeaseStore
        + EventStore
        + ListingStore
{
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_far_past_the_end_neither_overflow_nor_promise_more() {
        let far = Page::new(u64::MAX, 1000);
        assert_eq!(far.offset(), i64::MAX as u64);
        let paged: Paged<()> = Paged {
            items: vec![],
            total_items: u64::MAX,
            page: far,
        };
        assert_eq!(paged.page_next(), None);
        assert_eq!(Page::new(3, 50).offset(), 100);
        let middle: Paged<()> = Paged {
            items: vec![],
            total_items: 101,
            page: Page::new(2, 50),
        };
        assert_eq!(middle.page_next(), Some(3));
        assert_eq!(Paged::<()>::empty(Page::new(1, 10)).total_items, 0);
    }
}
