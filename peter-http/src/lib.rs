//! # peter-http
//!
//! peter's HTTP surface on poem: the public routes any web node can serve
//! from the shared store (`/.well-known/acme-challenge/{token}`,
//! `/.well-known/public/whoami`), with the `X-Peter-SSLers` header on every
//! response, errors included.
//!
//! Architecture invariant: handlers translate HTTP to library calls and
//! back; no business rule lives here. Nothing on the challenge path holds a
//! lock, so concurrent validation fetches are answered concurrently.

#![warn(missing_docs)]

pub mod admin;
#[cfg(feature = "fake-server")]
pub mod fake;
pub mod nginx;
mod public;
pub mod views;
mod wire;

pub use admin::{ADMIN_PREFIX, AccessError, AdminAccess, AdminState};
pub use public::{PublicServer, PublicState, public_routes, routes};
