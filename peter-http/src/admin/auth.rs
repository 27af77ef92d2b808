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

/// The shortest token accepted: 16 characters.
pub const MIN_TOKEN_LENGTH: usize = 16;

/// Why credentials were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// A token is shorter than [`MIN_TOKEN_LENGTH`].
    #[error("the {0} must be at least 16 characters")]
    TokenTooShort(&'static str),
    /// A network is not a CIDR or an address.
    #[error("`{0}` is not a network like 10.0.0.0/8 or an address")]
    BadNetwork(String),
}

/// The credentials the admin API accepts.
#[derive(Clone)]
pub struct AdminAccess {
    /// The admin token (full access).
    admin_token: String,
    /// The read-only gateway token (`domain/{id}/config.json` only).
    gateway_token: Option<String>,
    /// Source networks allowed to read `domain/{id}/config.json` without a
    /// token (the original's OpenResty module sends none).
    gateway_networks: Vec<IpNet>,
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
    /// Access with the admin token `token` (at least 16 characters).
    pub fn new(token: impl Into<String>) -> Result<Self, AccessError> {
        let admin_token = token.into();
        if admin_token.trim().len() < MIN_TOKEN_LENGTH {
            return Err(AccessError::TokenTooShort("admin token"));
        }
        Ok(Self {
            admin_token,
            gateway_token: None,
            gateway_networks: Vec::new(),
        })
    }

    /// Also accepts the read-only gateway token `token` on a domain's config.json.
    pub fn with_gateway_token(mut self, token: impl Into<String>) -> Result<Self, AccessError> {
        let token = token.into();
        if token.trim().len() < MIN_TOKEN_LENGTH {
            return Err(AccessError::TokenTooShort("gateway token"));
        }
        self.gateway_token = Some(token);
        Ok(self)
    }

    /// Also lets requests from these networks (CIDRs or addresses) read a
    /// domain's config.json without a token.
    pub fn with_gateway_networks<S: AsRef<str>>(
        mut self,
        networks: impl IntoIterator<Item = S>,
    ) -> Result<Self, AccessError> {
        for n in networks {
            let n = n.as_ref().trim();
            let net = n
                .parse::<IpNet>()
                .or_else(|_| n.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| AccessError::BadNetwork(n.to_string()))?;
            self.gateway_networks.push(net);
        }
        Ok(self)
    }

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
