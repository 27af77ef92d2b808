//! # peter-store
//!
//! The SQL certificate store ("SSL Minnow") behind [`peter_core::ports::Store`]:
//! one sea-orm code path for a SQLite file (the embedded default) and for
//! PostgreSQL (a store many nodes share).
//!
//! Architecture invariant: this crate is the only place in peter that knows
//! SQL. Every multi-row change runs in one transaction (IMMEDIATE on SQLite,
//! so concurrent writers queue instead of failing), content is de-duplicated
//! by unique keys with `ON CONFLICT DO NOTHING`, and each domain's
//! latest-certificate pointers are refreshed in the same transaction as the
//! change that moves them.

#![warn(missing_docs)]

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
mod migration;
mod orders;
#[cfg(feature = "redis")]
pub mod redis_prime;
mod sql_store;

pub use sql_store::{SqlStore, sqlite_url_for_path};
