//! DNS-01 methods (the `dns` feature): the ways peter publishes the TXT
//! record a DNS-01 challenge needs, each a
//! [`DnsChallengeSolver`](peter_core::ports::DnsChallengeSolver).
//!
//! - [`ExecDnsHook`]: an operator's command, for any DNS provider's API;
//! - [`Rfc2136`]: dynamic updates signed with TSIG, for operators running
//!   their own authoritative DNS (knot, bind9, PowerDNS, ...);
//! - [`PeterDns`]: peter's own DNS, the `_acme-challenge` names delegated
//!   to a zone every node answers from the store ([`DnsListener`]).

mod exec;
mod peter;
mod rfc2136;

pub use exec::ExecDnsHook;
pub use peter::{DnsListener, PeterDns, ZoneAnswers};
pub use rfc2136::{Rfc2136, Rfc2136Settings};
