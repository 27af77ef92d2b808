//! # peter-store
//!
//! The SQL certificate store ("SSL Minnow") behind [`peter_core::ports::Store`]:
//! one sea-orm code path for a SQLite file (the embedded default) and for
//! PostgreSQL (a store many nodes share).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = std::env::temp_dir().join(format!("peter-store-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! use peter_core::app::Peter;
//! use peter_store::{SqlStore, sqlite_url_for_path};
//!
//! let store = SqlStore::open(&sqlite_url_for_path(&dir.join("peter.sqlite"))).await?;
//! let peter = Peter::builder().store(store).build()?;
//! let domain = peter.domains().add("Example.COM").await?;
//! assert_eq!(domain.id.domain_name, "example.com");
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```
//!
//! Architecture invariant: this crate is the only place in peter that knows
//! SQL. Every multi-row change runs in one transaction (IMMEDIATE on SQLite,
//! so concurrent writers queue instead of failing), content is de-duplicated
//! by unique keys with `ON CONFLICT DO NOTHING`, and each domain's
//! latest-certificate pointers are refreshed in the same transaction as the
//! change that moves them.

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

mod accounts;
mod cas;
#[cfg(feature = "certbot")]
pub mod certbot_export;
mod certificates;
mod convert;
mod domains;
#[cfg(feature = "testkit")]
pub mod entities;
#[cfg(not(feature = "testkit"))]
mod entities;
mod events;
mod leases;
mod listings;
#[cfg(feature = "testkit")]
pub mod migration;
#[cfg(not(feature = "testkit"))]
mod migration;
mod orders;
#[cfg(feature = "redis")]
pub mod redis_prime;
mod sql_store;

pub use sql_store::{SqlStore, sqlite_url_for_path};
