//! RFC 2136 dynamic updates signed with TSIG (RFC 8945): the TXT record is
//! added to the operator's zone at its primary server, peter waits until
//! every server to check answers it, and removes it after the CA's verdict.

use std::net::SocketAddr;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use hickory_net::client::{Client, ClientHandle};
use hickory_net::runtime::TokioRuntimeProvider;
use hickory_net::udp::UdpClientStream;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::rdata::tsig::TsigAlgorithm;
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType, TSigner};
use peter_core::ports::{DnsChallengeError, DnsChallengeRecord, DnsChallengeSolver};

/// How long one DNS exchange may take.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(3);
/// How often the servers to check are asked while waiting.
const CHECK_INTERVAL: Duration = Duration::from_millis(250);

/// What an RFC 2136 method needs.
#[derive(Clone)]
pub struct Rfc2136Settings {
    /// The zone's primary server, which takes the updates.
    pub server: SocketAddr,
    /// The zone the records are added to (`example.com`); every name
    /// validated this way must be inside it.
    pub zone: String,
    /// The TSIG key's name, as the server knows it.
    pub key_name: String,
    /// `hmac-sha256` (default), `hmac-sha384` or `hmac-sha512`.
    pub key_algorithm: String,
    /// The TSIG secret, base64 (as `tsig-keygen` and `keymgr` print it).
    pub key_secret: String,
    /// Servers that must answer the record before the challenge is
    /// triggered (empty: the update server).
    pub check: Vec<SocketAddr>,
    /// The record's TTL.
    pub ttl: u32,
    /// How long to wait for the servers to check.
    pub propagation_timeout: Duration,
}

impl std::fmt::Debug for Rfc2136Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rfc2136Settings")
            .field("server", &self.server)
            .field("zone", &self.zone)
            .field("key_name", &self.key_name)
            .field("key_algorithm", &self.key_algorithm)
            .field("check", &self.check)
            .finish_non_exhaustive()
    }
}

/// DNS-01 by RFC 2136 dynamic updates with TSIG.
#[derive(Clone)]
pub struct Rfc2136 {
    server: SocketAddr,
    zone: Name,
    signer: TSigner,
    check: Vec<SocketAddr>,
    ttl: u32,
    propagation_timeout: Duration,
}

impl std::fmt::Debug for Rfc2136 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rfc2136")
            .field("server", &self.server)
            .field("zone", &self.zone)
            .finish_non_exhaustive()
    }
}

fn name(text: &str) -> Result<Name, String> {
    let mut n = Name::from_ascii(text).map_err(|e| format!("`{text}` is not a DNS name: {e}"))?;
    n.set_fqdn(true);
    Ok(n)
}

impl Rfc2136 {
    /// The method, its settings checked (the key decoded, the algorithm
    /// known); nothing is sent yet.
    pub fn new(settings: Rfc2136Settings) -> Result<Self, String> {
        let algorithm = match settings.key_algorithm.to_ascii_lowercase().as_str() {
            "" | "hmac-sha256" => TsigAlgorithm::HmacSha256,
            "hmac-sha384" => TsigAlgorithm::HmacSha384,
            "hmac-sha512" => TsigAlgorithm::HmacSha512,
            other => {
                return Err(format!(
                    "TSIG algorithm `{other}`: use hmac-sha256, hmac-sha384 or hmac-sha512"
                ));
            }
        };
        let key = base64::engine::general_purpose::STANDARD
            .decode(settings.key_secret.trim())
            .map_err(|_| "the TSIG secret is not base64".to_string())?;
        if key.is_empty() {
            return Err("the TSIG secret is empty".into());
        }
        let signer = TSigner::new(key, algorithm, name(&settings.key_name)?, 300)
            .map_err(|e| format!("TSIG key: {e}"))?;
        let check = if settings.check.is_empty() {
            vec![settings.server]
        } else {
            settings.check
        };
        Ok(Self {
            server: settings.server,
            zone: name(&settings.zone)?,
            signer,
            check,
            ttl: settings.ttl,
            // At most a day: a wait is bounded whatever the caller gives.
            propagation_timeout: settings
                .propagation_timeout
                .min(Duration::from_secs(86_400)),
        })
    }

    fn client(&self, server: SocketAddr, signer: Option<TSigner>) -> Client<TokioRuntimeProvider> {
        let stream = UdpClientStream::builder(server, TokioRuntimeProvider::default())
            .with_timeout(Some(EXCHANGE_TIMEOUT))
            .with_signer(signer)
            .build();
        let (client, background) = Client::<TokioRuntimeProvider>::from_sender(stream);
        tokio::spawn(background);
        client
    }

    /// The record as hickory writes it, refused when outside the zone
    /// (hickory's update builders assume it is inside).
    fn txt(&self, record: &DnsChallengeRecord) -> Result<Record, String> {
        let owner = name(&record.fqdn)?;
        if !self.zone.zone_of(&owner) {
            return Err(format!(
                "`{}` is not inside the zone `{}` this method updates",
                record.fqdn, self.zone
            ));
        }
        Ok(Record::from_rdata(
            owner,
            self.ttl,
            RData::TXT(TXT::new(vec![record.value.clone()])),
        ))
    }

    async fn update(&self, record: &DnsChallengeRecord, add: bool) -> Result<(), String> {
        let txt = self.txt(record)?;
        let mut client = self.client(self.server, Some(self.signer.clone()));
        let answer = if add {
            client.append(txt, self.zone.clone(), false).await
        } else {
            client.delete_by_rdata(txt, self.zone.clone()).await
        };
        let response = answer.map_err(|e| {
            let text = e.to_string();
            // A server refusing the signature answers BADSIG/BADKEY with an
            // empty MAC, which hickory reports as a TSIG parsing problem.
            if text.contains("TSIG") || text.contains("HMAC") {
                format!(
                    "{} did not accept the TSIG signature (a wrong key, key name or algorithm?): {text}",
                    self.server
                )
            } else {
                format!("the update to {} failed: {text}", self.server)
            }
        })?;
        match response.metadata.response_code {
            ResponseCode::NoError => Ok(()),
            code => Err(format!(
                "{} answered the update with {code} (a wrong TSIG key or a zone it does not serve?)",
                self.server
            )),
        }
    }

    /// Whether `server` answers the record's value.
    async fn answers(&self, server: SocketAddr, record: &DnsChallengeRecord) -> bool {
        let Ok(owner) = name(&record.fqdn) else {
            return false;
        };
        let mut client = self.client(server, None);
        let Ok(response) = client.query(owner, DNSClass::IN, RecordType::TXT).await else {
            return false;
        };
        response.answers.iter().any(|r| match &r.data {
            RData::TXT(txt) => txt
                .txt_data
                .iter()
                .any(|part| part.as_ref() == record.value.as_bytes()),
            _ => false,
        })
    }
}

#[async_trait]
impl DnsChallengeSolver for Rfc2136 {
    fn method(&self) -> &str {
        "rfc2136"
    }

    async fn prepare(&self, domain: &str) -> Result<(), DnsChallengeError> {
        // A name outside the zone is refused before an order is placed.
        let record = DnsChallengeRecord::new(domain, "");
        self.txt(&record)
            .map(|_| ())
            .map_err(|message| DnsChallengeError::Failed {
                method: "rfc2136".into(),
                action: "add",
                fqdn: record.fqdn.clone(),
                message,
            })
    }

    async fn present(&self, record: &DnsChallengeRecord) -> Result<(), DnsChallengeError> {
        self.update(record, true)
            .await
            .map_err(|message| DnsChallengeError::Failed {
                method: "rfc2136".into(),
                action: "add",
                fqdn: record.fqdn.clone(),
                message,
            })?;
        let now = tokio::time::Instant::now();
        let deadline = now.checked_add(self.propagation_timeout).unwrap_or(now);
        let mut waiting: Vec<SocketAddr> = self.check.clone();
        loop {
            let mut still = Vec::new();
            for server in waiting {
                if !self.answers(server, record).await {
                    still.push(server);
                }
            }
            if still.is_empty() {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                let servers: Vec<String> = still.iter().map(ToString::to_string).collect();
                return Err(DnsChallengeError::Failed {
                    method: "rfc2136".into(),
                    action: "add",
                    fqdn: record.fqdn.clone(),
                    message: format!(
                        "{} did not answer it within {} s",
                        servers.join(", "),
                        self.propagation_timeout.as_secs()
                    ),
                });
            }
            waiting = still;
            tokio::time::sleep(CHECK_INTERVAL).await;
        }
    }

    async fn clean_up(&self, record: &DnsChallengeRecord) -> Result<(), DnsChallengeError> {
        self.update(record, false)
            .await
            .map_err(|message| DnsChallengeError::Failed {
                method: "rfc2136".into(),
                action: "remove",
                fqdn: record.fqdn.clone(),
                message,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Rfc2136Settings {
        Rfc2136Settings {
            server: "127.0.0.1:53".parse().unwrap(),
            zone: "example.com".into(),
            key_name: "peter".into(),
            key_algorithm: "hmac-sha256".into(),
            key_secret: "c2VjcmV0c2VjcmV0c2VjcmV0".into(),
            check: Vec::new(),
            ttl: 60,
            propagation_timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn settings_are_checked_before_anything_is_sent() {
        let ok = Rfc2136::new(settings()).unwrap();
        assert_eq!(ok.check, vec![ok.server], "the update server by default");
        let bad_algorithm = Rfc2136::new(Rfc2136Settings {
            key_algorithm: "hmac-md5".into(),
            ..settings()
        });
        assert!(bad_algorithm.unwrap_err().contains("hmac-sha256"));
        let bad_secret = Rfc2136::new(Rfc2136Settings {
            key_secret: "not base64!".into(),
            ..settings()
        });
        assert!(bad_secret.unwrap_err().contains("base64"));
        let outside = ok
            .txt(&DnsChallengeRecord::new("example.org", "a.b"))
            .unwrap_err();
        assert!(outside.contains("not inside the zone"), "{outside}");
        assert!(
            ok.txt(&DnsChallengeRecord::new("*.www.example.com", "a.b"))
                .is_ok()
        );
    }
}
