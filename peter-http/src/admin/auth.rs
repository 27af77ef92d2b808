//! Who may call the admin API: the admin token for everything; the
//! read-only gateway token, or a listed source network without a token, for
//! a domain's `config.json` only. Tokens are compared in constant time.

use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;
use subtle::ConstantTimeEq;

/// The credentials the admin API accepts.
#[derive(Clone, Default)]
pub struct AdminAccess {
    /// The admin token (full access).
    pub admin_token: String,
    /// The read-only gateway token (`domain/{id}/config.json` only).
    pub gateway_token: Option<String>,
    /// Source networks allowed to read `domain/{id}/config.json` without a
    /// token (the original's OpenResty module sends none).
    pub gateway_networks: Vec<IpNet>,
}

impl std::fmt::Debug for AdminAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminAccess")
            .field("gateway_networks", &self.gateway_networks)
            .finish_non_exhaustive()
    }
}

fn same(given: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

impl AdminAccess {
    /// Whether `token` is the admin token.
    pub fn is_admin(&self, token: &str) -> bool {
        same(token, &self.admin_token)
    }

    /// Whether `token` is the gateway token.
    pub fn is_gateway(&self, token: &str) -> bool {
        self.gateway_token
            .as_deref()
            .is_some_and(|expected| same(token, expected))
    }

    /// Whether a request from `ip` may read config.json without a token.
    pub fn is_gateway_network(&self, ip: Option<IpAddr>) -> bool {
        let Some(ip) = ip else { return false };
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        self.gateway_networks.iter().any(|n| n.contains(&ip))
    }
}

fn access(req: &Request) -> Option<&Arc<AdminAccess>> {
    req.data::<Arc<AdminAccess>>()
}

/// Proof that the admin token was given.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

/// Proof that the gateway token was given.
#[derive(Debug, Clone, Copy)]
pub struct Gateway;

async fn check_admin(req: &Request, bearer: Bearer) -> Option<Admin> {
    access(req)?.is_admin(&bearer.token).then_some(Admin)
}

async fn check_gateway(req: &Request, bearer: Bearer) -> Option<Gateway> {
    access(req)?.is_gateway(&bearer.token).then_some(Gateway)
}

/// `Authorization: Bearer <admin token>`: every admin route.
#[derive(SecurityScheme)]
#[oai(rename = "AdminToken", ty = "bearer", checker = "check_admin")]
pub struct AdminToken(pub Admin);

/// `Authorization: Bearer <gateway token>`: read-only, a domain's
/// `config.json` only.
#[derive(SecurityScheme)]
#[oai(rename = "GatewayToken", ty = "bearer", checker = "check_gateway")]
pub struct GatewayToken(pub Gateway);

/// Who may read a domain's `config.json`: the admin token, the gateway
/// token, or (no token) a request from a configured gateway network.
#[derive(SecurityScheme)]
pub enum ConfigReader {
    /// The admin token.
    Admin(AdminToken),
    /// The gateway token.
    Gateway(GatewayToken),
    /// No token: allowed only from a configured gateway network.
    #[oai(fallback)]
    Network,
}
