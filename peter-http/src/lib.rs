//! # peter-http
//!
//! peter's HTTP surface on poem: the public routes any web node can serve
//! from the shared store (`/.well-known/acme-challenge/{token}`,
//! `/.well-known/public/whoami`), with the `X-Peter-SSLers` header on every
//! response, errors included.
//!
//! The routes mount inside any poem application; the admin API only when
//! an [`AdminState`] is given:
//!
//! ```
//! use peter_core::app::Peter;
//! use peter_http::{AdminAccess, AdminState, PublicState};
//! use poem::Route;
//!
//! # fn example(peter: Peter) -> Result<(), Box<dyn std::error::Error>> {
//! let admin = AdminState::new(
//!     peter.clone(),
//!     AdminAccess::new("a-token-of-16-or-more-characters")?,
//! );
//! let app = Route::new().nest(
//!     "/",
//!     peter_http::routes(PublicState::new(peter, "production"), Some(admin)),
//! );
//! # let _ = app;
//! # Ok(())
//! # }
//! ```
//!
//! Architecture invariant: handlers translate HTTP to library calls and
//! back; no business rule lives here: they call the facade
//! ([`peter_core::app::Peter`]) and render [`views`]. Nothing on the challenge path holds a
//! lock, so concurrent validation fetches are answered concurrently.

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

pub mod admin;
pub mod alerts;
#[cfg(feature = "fake-server")]
pub mod fake;
pub mod nginx;
mod public;
mod server;
pub mod views;
mod wire;

pub use admin::{ADMIN_PREFIX, AccessError, AdminAccess, AdminState};
pub use public::{PublicServer, PublicState, public_routes, routes};
pub use server::{ServerLimits, serve};
