//! # peter-acme
//!
//! The ACME v2 (RFC 8555) adapter behind [`peter_core::ports::AcmeClient`],
//! built on instant-acme. Where instant-acme cannot make a request peter
//! needs (fetching an authorization or a challenge by URL, triggering a
//! challenge by URL, downloading every alternate chain), a small JWS layer
//! of this crate's own signs the request with the same account key.
//!
//! ```no_run
//! use peter_core::app::{AccountRequest, OrderRequest, Peter};
//! use peter_core::model::AcmeOrderProcessingStrategy;
//!
//! # async fn example(store: impl peter_core::ports::Store + 'static) -> Result<(), peter_core::Error> {
//! let peter = Peter::builder()
//!     .store(store)
//!     .acme(peter_acme::InstantAcme)
//!     .build()?;
//! let account = peter.accounts().create(AccountRequest::default()).await?;
//! let order = peter
//!     .orders()
//!     .create(OrderRequest::new(
//!         account.id,
//!         vec!["example.com".into()],
//!         AcmeOrderProcessingStrategy::ProcessSingle,
//!     ))
//!     .await?;
//! println!("certificate {:?}", order.value.certificate_signed_id);
//! # Ok(())
//! # }
//! ```
//!
//! Architecture invariant: every request to an ACME server, whoever builds
//! it, passes through one logging HTTP client, which records it in the
//! AcmeEventLog (endpoint, status, problem, Retry-After, duration) and never
//! records a body, a JWS, a nonce or key material.

#![warn(missing_docs)]
// Input meets numbers and indexes here: no silent overflow, no panic
// outside tests (the workspace lint run makes these errors).
#![cfg_attr(
    not(test),
    warn(
        clippy::arithmetic_side_effects,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod adapter;
#[cfg(feature = "dns")]
pub mod dns;
mod http;
mod jws;
#[cfg(feature = "testkit")]
// Test support: panicking on a broken fixture is the point.
#[allow(
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
pub mod testkit;

pub use adapter::InstantAcmeClient;

use std::sync::Arc;

use peter_core::ports::{AcmeClient, AcmeClientFactory, Clock, EventStore};

/// Makes [`InstantAcmeClient`]s for the facade:
/// `Peter::builder().acme(peter_acme::InstantAcme)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct InstantAcme;

impl AcmeClientFactory for InstantAcme {
    fn client(&self, events: Arc<dyn EventStore>, _clock: Arc<dyn Clock>) -> Arc<dyn AcmeClient> {
        Arc::new(InstantAcmeClient::new(events))
    }
}
