//! peter's own DNS: the operator delegates `_acme-challenge.<name>` once,
//! with a CNAME to `<label>.<peter's zone>`, and every node sharing the
//! store answers the TXT records there ([`DnsListener`]). The method
//! ([`PeterDns`]) only writes the values to the store; the listener only
//! reads them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hickory_net::client::{Client, ClientHandle};
use hickory_net::runtime::TokioRuntimeProvider;
use hickory_net::udp::UdpClientStream;
use hickory_proto::op::{Edns, Header, HeaderCounts, Metadata, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{NS, SOA, TXT};
use hickory_proto::rr::{DNSClass, LowerName, Name, RData, Record, RecordType};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;
use peter_core::ports::{
    DnsChallengeError, DnsChallengeRecord, DnsChallengeSolver, Store, new_delegation_label,
};

/// TTL of the TXT answers and the negative TTL (SOA minimum): a value
/// placed for a new challenge is seen within seconds.
const ANSWER_TTL: u32 = 5;
/// How long one question to the resolver may take.
const RESOLVER_TIMEOUT: Duration = Duration::from_secs(5);
/// Store reads the listener makes at once (anonymous traffic cannot take
/// the store's connections from the rest); other questions wait.
const CONCURRENT_LOOKUPS: usize = 32;
/// How long a question waits for a store read before it gets SERVFAIL.
const LOOKUP_WAIT: Duration = Duration::from_secs(1);

/// Whether `label` could be one `new_delegation_label` made: anything else
/// is answered without asking the store.
fn is_delegation_label(label: &str) -> bool {
    label.len() == 20
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
}

fn fqdn(text: &str) -> Result<Name, String> {
    let mut n = Name::from_ascii(text).map_err(|e| format!("`{text}` is not a DNS name: {e}"))?;
    n.set_fqdn(true);
    Ok(n.to_lowercase())
}

/// The DNS-01 method of peter's own DNS: TXT values go to the store, under
/// the delegation label of the name's `_acme-challenge` record.
pub struct PeterDns {
    store: Arc<dyn Store>,
    zone: String,
    resolver: Option<SocketAddr>,
}

impl std::fmt::Debug for PeterDns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeterDns")
            .field("zone", &self.zone)
            .field("resolver", &self.resolver)
            .finish_non_exhaustive()
    }
}

impl PeterDns {
    /// The method for `zone` (where the CNAMEs point). With a `resolver`
    /// (`address:port` of a recursive resolver), each delegation is checked
    /// before an order is sent.
    pub fn new(
        store: Arc<dyn Store>,
        zone: &str,
        resolver: Option<SocketAddr>,
    ) -> Result<Self, String> {
        let zone = fqdn(zone)?.to_ascii().trim_end_matches('.').to_string();
        Ok(Self {
            store,
            zone,
            resolver,
        })
    }

    async fn label(&self, domain: &str) -> Result<String, String> {
        self.store
            .dns_delegation_label(domain, &new_delegation_label())
            .await
            .map_err(|e| format!("the store: {e}"))
    }
}

#[async_trait]
impl DnsChallengeSolver for PeterDns {
    fn method(&self) -> &str {
        "peter"
    }

    fn delegation_zone(&self) -> Option<&str> {
        Some(&self.zone)
    }

    async fn prepare(&self, domain: &str) -> Result<(), DnsChallengeError> {
        let record = format!("_acme-challenge.{domain}");
        let failed = |message: String| DnsChallengeError::Failed {
            method: "peter".into(),
            action: "check",
            fqdn: record.clone(),
            message,
        };
        let label = self.label(domain).await.map_err(failed)?;
        let target = format!("{label}.{}", self.zone);
        let Some(resolver) = self.resolver else {
            return Ok(());
        };
        let owner = fqdn(&record).map_err(failed)?;
        let stream = UdpClientStream::builder(resolver, TokioRuntimeProvider::default())
            .with_timeout(Some(RESOLVER_TIMEOUT))
            .build();
        let (mut client, background) = Client::<TokioRuntimeProvider>::from_sender(stream);
        tokio::spawn(background);
        let answer = client
            .query(owner.clone(), DNSClass::IN, RecordType::CNAME)
            .await;
        // Only "no such CNAME" (NOERROR without it, or NXDOMAIN) means the
        // delegation is missing; a failing resolver is said as such.
        if let Ok(response) = &answer
            && !matches!(
                response.metadata.response_code,
                ResponseCode::NoError | ResponseCode::NXDomain
            )
        {
            return Err(failed(format!(
                "the resolver {resolver} answered {}",
                response.metadata.response_code
            )));
        }
        let found: Vec<String> = match &answer {
            Ok(response) => response
                .answers
                .iter()
                .filter(|r| r.name.to_lowercase() == owner)
                .filter_map(|r| match &r.data {
                    RData::CNAME(c) => Some(c.0.to_lowercase().to_ascii()),
                    _ => None,
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        let wanted = format!("{target}.");
        if found.contains(&wanted) {
            return Ok(());
        }
        if let Err(e) = &answer {
            return Err(failed(format!("asking the resolver {resolver}: {e}")));
        }
        Err(DnsChallengeError::NotDelegated {
            record,
            target,
            found: match found.first() {
                Some(other) => format!(": it is a CNAME to `{other}`"),
                None => format!(": the resolver {resolver} finds no CNAME there"),
            },
        })
    }

    async fn present(&self, record: &DnsChallengeRecord) -> Result<(), DnsChallengeError> {
        let failed = |message: String| DnsChallengeError::Failed {
            method: "peter".into(),
            action: "add",
            fqdn: record.fqdn.clone(),
            message,
        };
        let label = self.label(&record.domain).await.map_err(failed)?;
        // In the shared store, it is answered by every node at once.
        self.store
            .add_dns_txt(&label, &record.value)
            .await
            .map_err(|e| failed(format!("the store: {e}")))
    }

    async fn clean_up(&self, record: &DnsChallengeRecord) -> Result<(), DnsChallengeError> {
        let failed = |message: String| DnsChallengeError::Failed {
            method: "peter".into(),
            action: "remove",
            fqdn: record.fqdn.clone(),
            message,
        };
        let label = self.label(&record.domain).await.map_err(failed)?;
        self.store
            .remove_dns_txt(&label, &record.value)
            .await
            .map_err(|e| failed(format!("the store: {e}")))
    }
}

/// Answers peter's zone over UDP and TCP: its SOA and NS at the apex, the
/// store's TXT values at `<label>.<zone>`, nothing else (other names in the
/// zone are NXDOMAIN, names outside it REFUSED). Every node sharing the
/// store answers the same.
pub struct DnsListener {
    server: hickory_server::Server<ZoneAnswers>,
    /// The address it listens on (UDP and TCP).
    pub addr: SocketAddr,
}

impl std::fmt::Debug for DnsListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnsListener")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl DnsListener {
    /// Binds `addr` (UDP and TCP; port 0: a free one) for `zone`, naming
    /// `nameserver` in its SOA and NS records.
    pub async fn bind(
        addr: SocketAddr,
        zone: &str,
        nameserver: &str,
        store: Arc<dyn Store>,
    ) -> Result<Self, String> {
        let origin = fqdn(zone)?;
        let ns = fqdn(nameserver)?;
        let hostmaster = fqdn(&format!("hostmaster.{}", origin.to_ascii()))?;
        let soa = Record::from_rdata(
            origin.clone(),
            ANSWER_TTL,
            RData::SOA(SOA::new(
                ns.clone(),
                hostmaster,
                1,
                3600,
                600,
                86_400,
                ANSWER_TTL,
            )),
        );
        let ns_record = Record::from_rdata(origin.clone(), 3600, RData::NS(NS(ns)));
        let udp = tokio::net::UdpSocket::bind(addr)
            .await
            .map_err(|e| format!("DNS listener on {addr} (UDP): {e}"))?;
        let bound = udp
            .local_addr()
            .map_err(|e| format!("DNS listener on {addr}: {e}"))?;
        let tcp = tokio::net::TcpListener::bind(bound)
            .await
            .map_err(|e| format!("DNS listener on {bound} (TCP): {e}"))?;
        let mut server = hickory_server::Server::new(ZoneAnswers {
            origin: LowerName::from(origin),
            soa,
            ns: ns_record,
            store,
            lookups: tokio::sync::Semaphore::new(CONCURRENT_LOOKUPS),
        });
        server.register_socket(udp);
        server.register_listener(tcp, Duration::from_secs(5), 4096);
        Ok(Self {
            server,
            addr: bound,
        })
    }

    /// Serves until the process ends (or the server fails).
    pub async fn run(mut self) -> Result<(), String> {
        self.server
            .block_until_done()
            .await
            .map_err(|e| format!("DNS listener on {}: {e}", self.addr))
    }
}

/// The request handler of [`DnsListener`].
pub struct ZoneAnswers {
    origin: LowerName,
    soa: Record,
    ns: Record,
    store: Arc<dyn Store>,
    lookups: tokio::sync::Semaphore,
}

impl ZoneAnswers {
    /// The answer records and response code for one question.
    async fn answer(&self, name: &LowerName, qtype: RecordType) -> (Vec<Record>, ResponseCode) {
        if !self.origin.zone_of(name) {
            return (Vec::new(), ResponseCode::Refused);
        }
        if *name == self.origin {
            let answers = match qtype {
                RecordType::SOA => vec![self.soa.clone()],
                RecordType::NS => vec![self.ns.clone()],
                _ => Vec::new(),
            };
            return (answers, ResponseCode::NoError);
        }
        if name.num_labels() != self.origin.num_labels().saturating_add(1) {
            return (Vec::new(), ResponseCode::NXDomain);
        }
        if qtype != RecordType::TXT {
            return (Vec::new(), ResponseCode::NoError);
        }
        let owner = Name::from(name.clone());
        let label = owner
            .iter()
            .next()
            .map(|l| String::from_utf8_lossy(l).to_ascii_lowercase())
            .unwrap_or_default();
        if !is_delegation_label(&label) {
            return (Vec::new(), ResponseCode::NoError);
        }
        // Questions queue for a read at most a second; beyond, SERVFAIL.
        let Ok(Ok(_permit)) = tokio::time::timeout(LOOKUP_WAIT, self.lookups.acquire()).await
        else {
            return (Vec::new(), ResponseCode::ServFail);
        };
        match self.store.dns_txt_values(&label).await {
            Ok(values) => (
                values
                    .into_iter()
                    .map(|v| {
                        Record::from_rdata(owner.clone(), ANSWER_TTL, RData::TXT(TXT::new(vec![v])))
                    })
                    .collect(),
                ResponseCode::NoError,
            ),
            Err(e) => {
                tracing::warn!(error = %e, "the DNS listener could not read the store");
                (Vec::new(), ResponseCode::ServFail)
            }
        }
    }
}

#[async_trait]
impl RequestHandler for ZoneAnswers {
    async fn handle_request<R: ResponseHandler, T: hickory_net::runtime::Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        let mut metadata = Metadata::response_from_request(&request.metadata);
        let failed = {
            let mut m = metadata;
            m.response_code = ResponseCode::ServFail;
            ResponseInfo::from(Header {
                metadata: m,
                counts: HeaderCounts::default(),
            })
        };
        let (answers, code) = match request.request_info() {
            Ok(info) if request.metadata.op_code == OpCode::Query => {
                self.answer(info.query.name(), info.query.query_type())
                    .await
            }
            Ok(_) => (Vec::new(), ResponseCode::NotImp),
            Err(_) => (Vec::new(), ResponseCode::FormErr),
        };
        metadata.authoritative = code != ResponseCode::Refused;
        metadata.response_code = code;
        let soa: Vec<&Record> = if answers.is_empty()
            && matches!(code, ResponseCode::NoError | ResponseCode::NXDomain)
        {
            vec![&self.soa]
        } else {
            Vec::new()
        };
        // An EDNS question gets an EDNS answer (larger UDP answers).
        let edns = request.edns.as_ref().map(|asked| {
            let mut e = Edns::new();
            e.set_max_payload(asked.max_payload().clamp(512, 1232));
            e
        });
        let mut builder = MessageResponseBuilder::from_message_request(request);
        if let Some(e) = &edns {
            builder.edns(e);
        }
        let message = builder.build(
            metadata,
            answers.iter(),
            std::iter::empty(),
            soa,
            std::iter::empty(),
        );
        response_handle
            .send_response(message)
            .await
            .unwrap_or(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_labels_peter_makes_reach_the_store() {
        assert!(is_delegation_label(&new_delegation_label()));
        assert!(!is_delegation_label("www"));
        assert!(!is_delegation_label("ABCDEFGHIJKLMNOPQRST"));
        assert!(!is_delegation_label("abcdefghijklmnopqrs1"));
        assert!(!is_delegation_label("abcdefghijklmnopqrstu"));
    }
}
