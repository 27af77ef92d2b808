//! [`InstantAcmeClient`]: the `AcmeClient` port on instant-acme plus the
//! crate's own JWS layer. One HTTP client (and one nonce pool) per ACME
//! server, one instant-acme `Account` per EC P-256 peter account, both
//! cached. An RSA account has no instant-acme `Account`: all of its requests
//! go through the JWS layer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use instant_acme::{Account, AccountCredentials, Identifier, NewOrder, OrderStatus};
use peter_core::dns::UniqueFqdnSet;
use peter_core::formats::ParsedPrivateKey;
use peter_core::model::rules::ServerChallenge;
use peter_core::model::*;
use peter_core::ports::*;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::http::{LoggingClient, scoped};
use crate::jws::{NoncePool, Signer, alternate_links, post, server_error};

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Directory {
    new_nonce: String,
    new_account: String,
    new_order: String,
    #[serde(default)]
    revoke_cert: Option<String>,
    #[serde(default)]
    key_change: Option<String>,
    #[serde(default)]
    renewal_info: Option<String>,
    #[serde(default)]
    meta: Option<DirectoryMeta>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct DirectoryMeta {
    #[serde(default)]
    terms_of_service: Option<String>,
    #[serde(default)]
    profiles: HashMap<String, serde_json::Value>,
    #[serde(default)]
    external_account_required: bool,
}

struct ServerState {
    client: LoggingClient,
    directory: Directory,
    nonces: NoncePool,
}

struct AccountState {
    /// instant-acme's account, for EC P-256 keys; `None` for RSA keys,
    /// whose every request goes through the JWS layer.
    account: Option<Account>,
    signer: Signer,
    kid: String,
    /// The server connection it was built on (an edited server gets a new one).
    server: Arc<ServerState>,
}

/// The ACME client peter uses.
pub struct InstantAcmeClient {
    store: Arc<dyn EventStore>,
    servers: tokio::sync::Mutex<HashMap<(i64, u64), Arc<ServerState>>>,
    accounts: tokio::sync::Mutex<HashMap<(i64, String), Arc<AccountState>>>,
    thumbprints: Mutex<HashMap<String, String>>,
}

fn acme_err(e: instant_acme::Error) -> AcmeError {
    match e {
        instant_acme::Error::Api(p) => {
            let is_bad_nonce = p
                .r#type
                .as_deref()
                .is_some_and(|t| t.ends_with(":badNonce"));
            // A badNonce detail quotes the rejected nonce, which must not be kept.
            let detail = if is_bad_nonce {
                Some("the server rejected the anti-replay nonce".into())
            } else {
                p.detail
            };
            AcmeError::Server {
                http_status: p.status,
                problem: Problem {
                    problem_type: p.r#type,
                    detail,
                    status: p.status,
                },
                retry_after_seconds: None,
            }
        }
        instant_acme::Error::Other(inner) => match inner.downcast::<AcmeError>() {
            Ok(e) => *e,
            Err(other) => {
                AcmeError::Transport(other.to_string(), Some(std::sync::Arc::from(other)))
            }
        },
        instant_acme::Error::Unsupported(what) => AcmeError::Unsupported(what.to_string()),
        instant_acme::Error::Timeout(_) => AcmeError::Timeout("the ACME server".into()),
        instant_acme::Error::KeyRejected => AcmeError::Key("the account key was rejected".into()),
        other => AcmeError::protocol_from(other.to_string(), other),
    }
}

/// An account's contact as ACME sends it: a `mailto:` URL, or none.
fn mailto_contacts(contact: Option<&str>) -> Vec<String> {
    contact
        .filter(|c| !c.is_empty())
        .map(|c| {
            if c.starts_with("mailto:") {
                c.to_string()
            } else {
                format!("mailto:{c}")
            }
        })
        .into_iter()
        .collect()
}

fn directory_info(directory: &Directory) -> DirectoryInfo {
    let meta = directory.meta.clone().unwrap_or_default();
    let mut profiles: Vec<String> = meta.profiles.keys().cloned().collect();
    profiles.sort();
    DirectoryInfo {
        profiles,
        supports_ari: directory.renewal_info.is_some(),
        terms_of_service: meta.terms_of_service,
        external_account_required: meta.external_account_required,
    }
}

fn order_status(s: OrderStatus) -> AcmeOrderStatus {
    match s {
        OrderStatus::Pending => AcmeOrderStatus::Pending,
        OrderStatus::Ready => AcmeOrderStatus::Ready,
        OrderStatus::Processing => AcmeOrderStatus::Processing,
        OrderStatus::Valid => AcmeOrderStatus::Valid,
        OrderStatus::Invalid => AcmeOrderStatus::Invalid,
        #[allow(unreachable_patterns)]
        _ => AcmeOrderStatus::Invalid,
    }
}

fn problem_of(p: &instant_acme::Problem) -> Problem {
    Problem {
        problem_type: p.r#type.clone(),
        detail: p.detail.clone(),
        status: p.status,
    }
}

fn server_order(order: &mut instant_acme::Order) -> ServerOrder {
    let url = order.url().to_string();
    let state = order.state();
    ServerOrder {
        url,
        status: order_status(state.status),
        authorizations: state.authorizations.iter().map(|a| a.url.clone()).collect(),
        finalize_url: state.finalize.clone(),
        certificate_url: state.certificate.clone(),
        expires: None,
        error: state.error.as_ref().map(problem_of),
        retry_after_seconds: crate::http::RETRY_AFTER
            .try_with(|c| c.get())
            .ok()
            .flatten(),
    }
}

#[derive(Deserialize)]
struct RawChallenge {
    #[serde(rename = "type")]
    kind: String,
    url: String,
    #[serde(default)]
    token: String,
    status: String,
    #[serde(default)]
    error: Option<Problem>,
}

/// An order as the server describes it (RFC 8555 §7.1.3).
#[derive(Deserialize)]
struct RawOrder {
    status: String,
    #[serde(default)]
    expires: Option<String>,
    #[serde(default)]
    authorizations: Vec<String>,
    finalize: String,
    #[serde(default)]
    certificate: Option<String>,
    #[serde(default)]
    error: Option<Problem>,
}

/// Reads an order body fetched through the JWS layer.
fn order_of(url: &str, response: &crate::http::RawResponse) -> Result<ServerOrder, AcmeError> {
    let raw: RawOrder = serde_json::from_slice(&response.body)
        .map_err(|e| AcmeError::protocol_from(format!("order {url}: {e}"), e))?;
    Ok(ServerOrder {
        url: url.to_string(),
        status: raw
            .status
            .parse()
            .map_err(|_| AcmeError::protocol(format!("order status `{}`", raw.status)))?,
        authorizations: raw.authorizations,
        finalize_url: raw.finalize,
        certificate_url: raw.certificate,
        expires: raw.expires.as_deref().and_then(parse_time),
        error: raw.error,
        retry_after_seconds: crate::http::retry_after_seconds(&response.headers),
    })
}

fn location_of(response: &crate::http::RawResponse, what: &str) -> Result<String, AcmeError> {
    response
        .headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .ok_or_else(|| AcmeError::protocol(format!("{what} gave no Location")))
}

#[derive(Deserialize)]
struct RawIdentifier {
    value: String,
}

#[derive(Deserialize)]
struct RawAuthorization {
    status: String,
    identifier: RawIdentifier,
    #[serde(default)]
    expires: Option<String>,
    #[serde(default)]
    challenges: Vec<RawChallenge>,
    #[serde(default)]
    wildcard: bool,
}

fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

fn challenge_of(raw: &RawChallenge) -> Option<ServerChallengeState> {
    let challenge_type: AcmeChallengeType = raw.kind.parse().ok()?;
    let status = raw.status.parse().unwrap_or(AcmeChallengeStatus::Invalid);
    Some(ServerChallengeState {
        challenge: ServerChallenge {
            url: raw.url.clone(),
            challenge_type,
            token: raw.token.clone(),
            status,
        },
        error: raw.error.clone(),
    })
}

fn authorization_of(url: &str, body: &[u8]) -> Result<ServerAuthorization, AcmeError> {
    let raw: RawAuthorization = serde_json::from_slice(body)
        .map_err(|e| AcmeError::protocol_from(format!("authorization {url}: {e}"), e))?;
    Ok(ServerAuthorization {
        url: url.to_string(),
        status: raw
            .status
            .parse()
            .map_err(|_| AcmeError::protocol(format!("authorization status `{}`", raw.status)))?,
        identifier: raw.identifier.value,
        wildcard: raw.wildcard,
        expires: raw.expires.as_deref().and_then(parse_time),
        challenges: raw
            .challenges
            .iter()
            .filter_map(challenge_of)
            .map(|c| c.challenge)
            .collect(),
    })
}

impl InstantAcmeClient {
    async fn place_order(
        &self,
        ctx: &AccountContext,
        names: &UniqueFqdnSet,
        replaces: Option<&str>,
        profile: Option<&str>,
        refs: EventRefs,
    ) -> Result<ServerOrder, AcmeError> {
        let (server, account) = self.account(ctx).await?;
        let Some(instant) = account.account.as_ref() else {
            let mut payload = serde_json::json!({
                "identifiers": names
                    .names()
                    .map(|n| serde_json::json!({"type": n.identifier_type().as_str(), "value": n}))
                    .collect::<Vec<_>>(),
            });
            if let Some(fields) = payload.as_object_mut() {
                if let Some(p) = profile {
                    fields.insert("profile".into(), p.into());
                }
                if let Some(r) = replaces {
                    fields.insert("replaces".into(), r.into());
                }
            }
            let url = server.directory.new_order.clone();
            return scoped((AcmeEvent::NewOrder, refs), async {
                let response = self.jws_post(ctx, &url, Some(&payload)).await?;
                order_of(&location_of(&response, "newOrder")?, &response)
            })
            .await;
        };
        let identifiers: Vec<Identifier> = names
            .names()
            .map(|n| match n.ip() {
                Some(ip) => Identifier::Ip(ip),
                None => Identifier::Dns(n.to_string()),
            })
            .collect();
        let fut = async {
            let mut new = NewOrder::new(&identifiers);
            if let Some(p) = profile {
                new = new.profile(p);
            }
            if let Some(r) = replaces {
                let (aki, serial) = r.split_once('.').ok_or_else(|| {
                    AcmeError::protocol(format!("bad certificate identifier `{r}`"))
                })?;
                new = new.replaces(instant_acme::CertificateIdentifier {
                    authority_key_identifier: aki.to_string().into(),
                    serial: serial.to_string().into(),
                });
            }
            let mut order = instant.new_order(&new).await.map_err(acme_err)?;
            Ok(server_order(&mut order))
        };
        scoped((AcmeEvent::NewOrder, refs), fut).await
    }

    /// A client recording every exchange into `events`.
    pub fn new(events: Arc<dyn EventStore>) -> Self {
        let store = events;
        Self {
            store,
            servers: tokio::sync::Mutex::new(HashMap::new()),
            accounts: tokio::sync::Mutex::new(HashMap::new()),
            thumbprints: Mutex::new(HashMap::new()),
        }
    }

    /// Reads a directory with a new client trusting `ca_bundle_pem`.
    async fn fetch_directory(
        &self,
        directory_url: &str,
        ca_bundle_pem: Option<&str>,
    ) -> Result<ServerState, AcmeError> {
        let client = LoggingClient::new(self.store.clone(), ca_bundle_pem)?;
        let request = ::http::Request::get(directory_url)
            .header("user-agent", "peter")
            .body(instant_acme::BodyWrapper::default())
            .map_err(|e| AcmeError::transport_from(format!("{directory_url}: {e}"), e))?;
        let response = scoped(
            (AcmeEvent::Directory, EventRefs::default()),
            client.send(request),
        )
        .await?;
        let is_problem = response
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/problem+json"));
        if response.status >= 400 {
            return Err(if is_problem {
                server_error(&response)
            } else {
                AcmeError::protocol(format!(
                    "{directory_url} answered HTTP {}: not an ACME directory",
                    response.status
                ))
            });
        }
        let directory: Directory = serde_json::from_slice(&response.body).map_err(|e| {
            AcmeError::protocol(format!("{directory_url} is not an ACME directory: {e}"))
        })?;
        Ok(ServerState {
            client,
            directory,
            nonces: NoncePool::default(),
        })
    }

    async fn server(&self, server: &AcmeServer) -> Result<Arc<ServerState>, AcmeError> {
        // Keyed by what decides the connection too: an edited server (new
        // CA bundle, new URL) gets a new client.
        let key = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            server.directory_url.hash(&mut h);
            server.ca_bundle_pem.hash(&mut h);
            (server.id.0, h.finish())
        };
        if let Some(s) = self.servers.lock().await.get(&key) {
            return Ok(s.clone());
        }
        // Fetched without holding the cache lock, so a slow CA delays only
        // the calls that need it.
        let state = Arc::new(
            self.fetch_directory(&server.directory_url, server.ca_bundle_pem.as_deref())
                .await?,
        );
        let mut servers = self.servers.lock().await;
        servers.retain(|(id, _), _| *id != server.id.0);
        Ok(servers.entry(key).or_insert(state).clone())
    }

    async fn account(
        &self,
        ctx: &AccountContext,
    ) -> Result<(Arc<ServerState>, Arc<AccountState>), AcmeError> {
        let server = self.server(&ctx.server).await?;
        let kid = ctx
            .account
            .account_url
            .clone()
            .ok_or_else(|| AcmeError::Key("the account is not registered".into()))?;
        let cache_key = (ctx.account.id.0, ctx.account.key.spki_sha256.clone());
        let mut accounts = self.accounts.lock().await;
        if let Some(a) = accounts.get(&cache_key)
            && Arc::ptr_eq(&a.server, &server)
        {
            return Ok((server, a.clone()));
        }
        let key = ParsedPrivateKey::from_pem(&ctx.account.key.key_pem)
            .map_err(|e| AcmeError::Key(e.to_string()))?;
        let signer = Signer::from_pkcs8(key.pkcs8_der())?;
        if signer.is_rsa() {
            let state = Arc::new(AccountState {
                account: None,
                signer,
                kid,
                server: server.clone(),
            });
            accounts.insert(cache_key, state.clone());
            return Ok((server, state));
        }
        let d = &server.directory;
        let credentials: AccountCredentials = serde_json::from_value(serde_json::json!({
            "id": kid,
            "key_pkcs8": base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, key.pkcs8_der()),
            "urls": {
                "newNonce": d.new_nonce,
                "newAccount": d.new_account,
                "newOrder": d.new_order,
                "revokeCert": d.revoke_cert,
                "keyChange": d.key_change,
                "renewalInfo": d.renewal_info,
                "meta": {"profiles": d.meta.as_ref().map(|m| m.profiles.clone()).unwrap_or_default()},
            }
        }))
        .map_err(|e| AcmeError::protocol_from(format!("account credentials: {e}"), e))?;
        let account = Account::builder_with_http(Box::new(server.client.clone()))
            .from_credentials(credentials)
            .await
            .map_err(acme_err)?;
        let state = Arc::new(AccountState {
            account: Some(account),
            signer,
            kid,
            server: server.clone(),
        });
        accounts.insert(cache_key, state.clone());
        Ok((server, state))
    }

    /// newAccount through peter's JWS layer: for an external account
    /// binding (instant-acme binds only accounts whose key it generates) and
    /// for RSA keys (instant-acme signs with P-256 only).
    async fn register_own(
        &self,
        state: &ServerState,
        signer: &Signer,
        contact: Option<&str>,
        only_return_existing: bool,
        binding: Option<&ExternalAccountBinding>,
        refs: EventRefs,
    ) -> Result<String, AcmeError> {
        let url = &state.directory.new_account;
        let payload = if only_return_existing {
            serde_json::json!({"onlyReturnExisting": true})
        } else {
            let mut payload = serde_json::json!({
                "termsOfServiceAgreed": true,
                "contact": mailto_contacts(contact),
            });
            if let (Some(binding), Some(fields)) = (binding, payload.as_object_mut()) {
                fields.insert(
                    "externalAccountBinding".into(),
                    signer.external_account_binding(binding, url),
                );
            }
            payload
        };
        let response = scoped(
            (AcmeEvent::NewAccount, refs),
            post(
                &state.client,
                &state.nonces,
                &state.directory.new_nonce,
                signer,
                None,
                url,
                Some(&payload),
            ),
        )
        .await?;
        location_of(&response, "newAccount")
    }

    async fn jws_post(
        &self,
        ctx: &AccountContext,
        url: &str,
        payload: Option<&serde_json::Value>,
    ) -> Result<crate::http::RawResponse, AcmeError> {
        let (server, account) = self.account(ctx).await?;
        post(
            &server.client,
            &server.nonces,
            &server.directory.new_nonce,
            &account.signer,
            Some(&account.kid),
            url,
            payload,
        )
        .await
    }
}

#[async_trait]
impl AcmeClient for InstantAcmeClient {
    async fn directory(&self, server: &AcmeServer) -> Result<DirectoryInfo, AcmeError> {
        Ok(directory_info(&self.server(server).await?.directory))
    }

    async fn probe_directory(
        &self,
        directory_url: &str,
        ca_bundle_pem: Option<&str>,
    ) -> Result<DirectoryInfo, AcmeError> {
        let state = self.fetch_directory(directory_url, ca_bundle_pem).await?;
        Ok(directory_info(&state.directory))
    }

    async fn register_account(
        &self,
        server: &AcmeServer,
        key: &ParsedPrivateKey,
        contact: Option<&str>,
        only_return_existing: bool,
        binding: Option<&ExternalAccountBinding>,
        refs: EventRefs,
    ) -> Result<String, AcmeError> {
        let state = self.server(server).await?;
        let signer = Signer::from_pkcs8(key.pkcs8_der())?;
        if binding.is_some() || signer.is_rsa() {
            return self
                .register_own(
                    &state,
                    &signer,
                    contact,
                    only_return_existing,
                    binding,
                    refs,
                )
                .await;
        }
        let ia_key =
            instant_acme::Key::from_pkcs8_der(PrivatePkcs8KeyDer::from(key.pkcs8_der().to_vec()))
                .map_err(|_| AcmeError::Key("ACME account keys must be EC P-256".into()))?;
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.pkcs8_der().to_vec()));
        let builder = Account::builder_with_http(Box::new(state.client.clone()));
        let fut = async {
            let (account, _) = if only_return_existing {
                builder
                    .from_key((ia_key, der), server.directory_url.clone())
                    .await
            } else {
                builder
                    .create_from_key((ia_key, der), server.directory_url.clone())
                    .await
            }
            .map_err(acme_err)?;
            let contacts = mailto_contacts(contact);
            if !contacts.is_empty() {
                let contacts: Vec<&str> = contacts.iter().map(String::as_str).collect();
                account.update_contacts(&contacts).await.map_err(acme_err)?;
            }
            Ok(account.id().to_string())
        };
        scoped((AcmeEvent::NewAccount, refs), fut).await
    }

    async fn update_account_contact(
        &self,
        ctx: &AccountContext,
        contact: Option<&str>,
    ) -> Result<(), AcmeError> {
        let refs = EventRefs {
            acme_account_id: Some(ctx.account.id),
            ..Default::default()
        };
        let kid = ctx.account.account_url.clone().unwrap_or_default();
        let contacts = mailto_contacts(contact);
        let payload = serde_json::json!({"contact": contacts});
        scoped(
            (AcmeEvent::AccountUpdate, refs),
            self.jws_post(ctx, &kid, Some(&payload)),
        )
        .await?;
        Ok(())
    }

    async fn deactivate_account(&self, ctx: &AccountContext) -> Result<(), AcmeError> {
        let refs = EventRefs {
            acme_account_id: Some(ctx.account.id),
            ..Default::default()
        };
        let kid = ctx.account.account_url.clone().unwrap_or_default();
        // instant-acme drops the server's answer here; peter needs to see it.
        let payload = serde_json::json!({"status": "deactivated"});
        scoped(
            (AcmeEvent::AccountDeactivate, refs),
            self.jws_post(ctx, &kid, Some(&payload)),
        )
        .await?;
        self.accounts
            .lock()
            .await
            .retain(|(id, _), _| *id != ctx.account.id.0);
        Ok(())
    }

    async fn change_account_key(
        &self,
        ctx: &AccountContext,
        new_key: &ParsedPrivateKey,
    ) -> Result<(), AcmeError> {
        let (server, account) = self.account(ctx).await?;
        let url = server
            .directory
            .key_change
            .clone()
            .ok_or_else(|| AcmeError::Unsupported("account key rollover (keyChange)".into()))?;
        let refs = EventRefs {
            acme_account_id: Some(ctx.account.id),
            ..Default::default()
        };
        // One keyChange for every pair of technologies (RFC 8555 §7.3.5):
        // the inner JWS is signed by the new key, the outer by the old one.
        let new_signer = Signer::from_pkcs8(new_key.pkcs8_der())?;
        let inner = new_signer.key_change_inner(&url, &account.kid, &account.signer)?;
        scoped(
            (AcmeEvent::KeyChange, refs),
            self.jws_post(ctx, &url, Some(&inner)),
        )
        .await?;
        // The cached account signs with the old key: drop it.
        self.accounts
            .lock()
            .await
            .retain(|(id, _), _| *id != ctx.account.id.0);
        Ok(())
    }

    async fn new_order(
        &self,
        ctx: &AccountContext,
        names: &UniqueFqdnSet,
        replaces: Option<&str>,
        profile: Option<&str>,
        refs: EventRefs,
    ) -> Result<ServerOrder, AcmeError> {
        let placed = self.place_order(ctx, names, replaces, profile, refs).await;
        // RFC 9773 writes the serial with DER's 0x00 sign byte, which
        // Pebble (up to 2.10.1, letsencrypt/pebble#550) does not find: one
        // serial in 256. Refused so, the order is asked once more with the
        // bare number (Boulder reads either).
        match (placed, replaces.and_then(without_sign_byte)) {
            (Err(e), Some(bare)) if e.is_refusal() || e.is_server_failure() => {
                tracing::debug!(error = %e, "newOrder refused with a signed serial in replaces; asking with the bare serial");
                self.place_order(ctx, names, Some(&bare), profile, refs)
                    .await
            }
            (placed, _) => placed,
        }
    }

    async fn fetch_order(
        &self,
        ctx: &AccountContext,
        url: &str,
        refs: EventRefs,
    ) -> Result<ServerOrder, AcmeError> {
        let (_, account) = self.account(ctx).await?;
        let fut = async {
            let Some(instant) = account.account.as_ref() else {
                return order_of(url, &self.jws_post(ctx, url, None).await?);
            };
            let mut order = instant.order(url.to_string()).await.map_err(acme_err)?;
            Ok(server_order(&mut order))
        };
        scoped((AcmeEvent::OrderLocation, refs), fut).await
    }

    async fn fetch_authorization(
        &self,
        ctx: &AccountContext,
        url: &str,
        refs: EventRefs,
    ) -> Result<ServerAuthorization, AcmeError> {
        let response = scoped(
            (AcmeEvent::AuthorizationRequest, refs),
            self.jws_post(ctx, url, None),
        )
        .await?;
        authorization_of(url, &response.body)
    }

    async fn deactivate_authorization(
        &self,
        ctx: &AccountContext,
        url: &str,
        refs: EventRefs,
    ) -> Result<ServerAuthorization, AcmeError> {
        let payload = serde_json::json!({"status": "deactivated"});
        let response = scoped(
            (AcmeEvent::AuthorizationDeactivate, refs),
            self.jws_post(ctx, url, Some(&payload)),
        )
        .await?;
        authorization_of(url, &response.body)
    }

    async fn fetch_challenge(
        &self,
        ctx: &AccountContext,
        url: &str,
        refs: EventRefs,
    ) -> Result<ServerChallengeState, AcmeError> {
        let response = scoped(
            (AcmeEvent::ChallengePostAsGet, refs),
            self.jws_post(ctx, url, None),
        )
        .await?;
        let raw: RawChallenge = serde_json::from_slice(&response.body)
            .map_err(|e| AcmeError::protocol_from(format!("challenge {url}: {e}"), e))?;
        challenge_of(&raw)
            .ok_or_else(|| AcmeError::Unsupported(format!("challenge type {}", raw.kind)))
    }

    async fn trigger_challenge(
        &self,
        ctx: &AccountContext,
        url: &str,
        refs: EventRefs,
    ) -> Result<ServerChallengeState, AcmeError> {
        let payload = serde_json::json!({});
        let response = scoped(
            (AcmeEvent::ChallengeTrigger, refs),
            self.jws_post(ctx, url, Some(&payload)),
        )
        .await?;
        let raw: RawChallenge = serde_json::from_slice(&response.body)
            .map_err(|e| AcmeError::protocol_from(format!("challenge {url}: {e}"), e))?;
        challenge_of(&raw)
            .ok_or_else(|| AcmeError::Unsupported(format!("challenge type {}", raw.kind)))
    }

    fn key_authorization(&self, ctx: &AccountContext, token: &str) -> Result<String, AcmeError> {
        let spki = ctx.account.key.spki_sha256.clone();
        let cached = self
            .thumbprints
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&spki)
            .cloned();
        let thumbprint = match cached {
            Some(t) => t,
            None => {
                let key = ParsedPrivateKey::from_pem(&ctx.account.key.key_pem)
                    .map_err(|e| AcmeError::Key(e.to_string()))?;
                let t = Signer::from_pkcs8(key.pkcs8_der())?.thumbprint();
                self.thumbprints
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(spki, t.clone());
                t
            }
        };
        Ok(format!("{token}.{thumbprint}"))
    }

    async fn finalize_order(
        &self,
        ctx: &AccountContext,
        order: &ServerOrder,
        csr_der: &[u8],
        refs: EventRefs,
    ) -> Result<ServerOrder, AcmeError> {
        let (_, account) = self.account(ctx).await?;
        let fut = async {
            let Some(instant) = account.account.as_ref() else {
                let payload = serde_json::json!({
                    "csr": base64::Engine::encode(
                        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                        csr_der
                    ),
                });
                let response = self
                    .jws_post(ctx, &order.finalize_url, Some(&payload))
                    .await?;
                return order_of(&order.url, &response);
            };
            let mut o = instant.order(order.url.clone()).await.map_err(acme_err)?;
            o.finalize_csr(csr_der).await.map_err(acme_err)?;
            Ok(server_order(&mut o))
        };
        scoped((AcmeEvent::OrderFinalize, refs), fut).await
    }

    async fn download_certificate(
        &self,
        ctx: &AccountContext,
        certificate_url: &str,
        refs: EventRefs,
    ) -> Result<DownloadedCertificate, AcmeError> {
        let fut = async {
            let first = self.jws_post(ctx, certificate_url, None).await?;
            let mut fullchains = vec![String::from_utf8_lossy(&first.body).into_owned()];
            for alternate in alternate_links(&first.headers) {
                let r = self.jws_post(ctx, &alternate, None).await?;
                fullchains.push(String::from_utf8_lossy(&r.body).into_owned());
            }
            Ok(DownloadedCertificate { fullchains })
        };
        scoped((AcmeEvent::CertificateProcured, refs), fut).await
    }

    async fn revoke_certificate(
        &self,
        ctx: &AccountContext,
        certificate_der: &[u8],
        reason: RevocationReason,
        refs: EventRefs,
    ) -> Result<(), AcmeError> {
        let (server, account) = self.account(ctx).await?;
        let Some(instant) = account.account.as_ref() else {
            let url = server
                .directory
                .revoke_cert
                .clone()
                .ok_or_else(|| AcmeError::Unsupported("revocation (revokeCert)".into()))?;
            let payload = serde_json::json!({
                "certificate": base64::Engine::encode(
                    &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                    certificate_der
                ),
                "reason": reason.code(),
            });
            return scoped(
                (AcmeEvent::RevokeCertificate, refs),
                self.jws_post(ctx, &url, Some(&payload)),
            )
            .await
            .map(|_| ());
        };
        let reason = match reason {
            RevocationReason::Unspecified => instant_acme::RevocationReason::Unspecified,
            RevocationReason::KeyCompromise => instant_acme::RevocationReason::KeyCompromise,
            RevocationReason::Superseded => instant_acme::RevocationReason::Superseded,
            RevocationReason::CessationOfOperation => {
                instant_acme::RevocationReason::CessationOfOperation
            }
        };
        let der = CertificateDer::from(certificate_der.to_vec());
        let fut = async {
            instant
                .revoke(&instant_acme::RevocationRequest {
                    certificate: &der,
                    reason: Some(reason),
                })
                .await
                .map_err(acme_err)
        };
        scoped((AcmeEvent::RevokeCertificate, refs), fut).await
    }

    async fn renewal_info(
        &self,
        server: &AcmeServer,
        certificate_der: &[u8],
        refs: EventRefs,
    ) -> Result<RenewalWindow, AcmeError> {
        let state = self.server(server).await?;
        let base = state
            .directory
            .renewal_info
            .clone()
            .ok_or_else(|| AcmeError::Unsupported("ACME renewal information (ARI)".into()))?;
        let id = self.certificate_identifier(certificate_der)?;
        let url = format!("{}/{}", base.trim_end_matches('/'), id);
        let request = ::http::Request::get(&url)
            .header("user-agent", "peter")
            .body(instant_acme::BodyWrapper::default())
            .map_err(|e| AcmeError::protocol_from(e.to_string(), e))?;
        let response = scoped((AcmeEvent::RenewalInfo, refs), state.client.send(request)).await?;
        if response.status >= 400 {
            return Err(server_error(&response));
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Window {
            start: String,
            end: String,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Info {
            suggested_window: Window,
            #[serde(default, rename = "explanationURL")]
            explanation_url: Option<String>,
        }
        let info: Info = serde_json::from_slice(&response.body)
            .map_err(|e| AcmeError::protocol_from(format!("renewalInfo: {e}"), e))?;
        let start = parse_time(&info.suggested_window.start)
            .ok_or_else(|| AcmeError::protocol("renewalInfo start"))?;
        let end = parse_time(&info.suggested_window.end)
            .ok_or_else(|| AcmeError::protocol("renewalInfo end"))?;
        // Clamped to 30 days: a huge header must not overflow the date.
        let retry = crate::http::retry_after_seconds(&response.headers)
            .unwrap_or(21_600)
            .clamp(0, 30 * 86_400);
        let now = OffsetDateTime::now_utc();
        // Only a web address is kept: it is shown to operators as a link.
        let explanation_url = info
            .explanation_url
            .filter(|u| (u.starts_with("https://") || u.starts_with("http://")) && u.len() <= 2048);
        Ok(RenewalWindow {
            start,
            end,
            retry_after: peter_core::model::rules::later_by(now, time::Duration::seconds(retry)),
            explanation_url,
            fetched_at: now,
        })
    }

    fn certificate_identifier(&self, certificate_der: &[u8]) -> Result<String, AcmeError> {
        let der = CertificateDer::from(certificate_der.to_vec());
        instant_acme::CertificateIdentifier::try_from(&der)
            .map(|id| id.to_string())
            .map_err(|e| AcmeError::protocol(format!("certificate identifier: {e}")))
    }
}

/// `replaces` (`AKI.serial`) with the serial's DER sign byte dropped, when
/// it has one (a 0x00 before a byte whose high bit is set).
fn without_sign_byte(replaces: &str) -> Option<String> {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    let (aki, serial) = replaces.split_once('.')?;
    let bytes = B64.decode(serial).ok()?;
    match bytes.as_slice() {
        [0, rest @ ..] if rest.first().is_some_and(|b| b & 0x80 != 0) => {
            Some(format!("{aki}.{}", B64.encode(rest)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod sign_byte_tests {
    use super::without_sign_byte;

    #[test]
    fn only_a_sign_byte_is_dropped() {
        // 00 CA FE (RFC 9773's form of serial CA FE) and 01 02 (no sign byte).
        assert_eq!(without_sign_byte("aki.AMr-").as_deref(), Some("aki.yv4"));
        assert_eq!(without_sign_byte("aki.AQI"), None);
        assert_eq!(without_sign_byte("aki.AAE"), None, "00 01 keeps its zero");
        assert_eq!(without_sign_byte("no-dot"), None);
    }
}
