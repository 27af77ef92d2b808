//! # peter-core
//!
//! The heart of peter: the certificate-management domain model, the rules that
//! govern it, the parsing of the formats certificates travel in, and the ports
//! (traits) through which the outside world is reached.
//!
//! Architecture invariant: this crate performs no IO. It depends on no
//! database, HTTP, file or network crate. Everything that persists, talks to a
//! CA or publishes certificates lives in an adapter crate that implements one of
//! the traits in [`ports`]. Time is read through [`ports::Clock`] so that every
//! time-dependent rule can be tested at a chosen instant.
//!
//! Everything a user does goes through the facade, [`app::Peter`], built
//! from the ports; after a change that alters what a domain serves, it
//! re-publishes the domain itself and says how that went:
//!
//! ```
//! use peter_core::app::Peter;
//! use peter_core::model::CertificateSignedId;
//! use peter_core::model::rules::CertificateMark;
//!
//! # async fn example(store: impl peter_core::ports::Store + 'static) -> Result<(), peter_core::Error> {
//! let peter = Peter::builder().store(store).build()?;
//! let changed = peter
//!     .certificates()
//!     .mark(CertificateSignedId(1), CertificateMark::Inactive)
//!     .await?;
//! for (publisher, error) in changed.publication.failures() {
//!     eprintln!("{publisher} was not updated: {error}");
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Layout:
//! - [`app`]: the facade, its builder and settings;
//! - [`dns`]: domain names and unique FQDN sets;
//! - [`formats`]: PEM/DER, certificates, chains, CSRs, private keys, digests;
//! - [`model`]: the stored objects, their status sets and their rules;
//! - [`ports`]: storage and clock traits implemented by adapters;
//! - [`ports`] also holds the publishing ports (Redis, nginx, exports) and
//!   the ACME client factory.

#![forbid(unsafe_code)]
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

pub mod app;
pub mod dns;
pub mod error;
pub mod formats;
pub mod model;
mod offload;
pub mod ports;
// The services are the facade's workings; tests reach them directly.
#[cfg(feature = "testkit")]
pub mod services;
#[cfg(not(feature = "testkit"))]
mod services;
#[cfg(any(test, feature = "testkit"))]
// Test support: panicking on a broken fixture is the point.
#[allow(
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
pub mod testkit;

pub use error::{Error, ErrorKind};
