//! Domain names as peter accepts them, and the canonical sets of names that a
//! certificate covers.
//!
//! Every name entering peter passes through [`DomainName::parse`], so the rest
//! of the code can rely on a name being lowercase ASCII (IDNA names in their
//! punycode form), without a trailing dot, and valid as a DNS host name or as a
//! leftmost-label wildcard; or an IP address (RFC 8738) in its canonical
//! text (dotted IPv4, RFC 5952 IPv6, no brackets). The two cannot be confused:
//! a DNS name whose last label is numeric is refused.

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

pub use crate::model::IdentifierType;

/// Longest name, in octets of its textual form, that DNS can carry.
pub const MAX_NAME_LENGTH: usize = 253;
/// Longest label DNS allows.
pub const MAX_LABEL_LENGTH: usize = 63;
/// Most names one ACME order (and so one certificate) may carry.
pub const MAX_NAMES_PER_SET: usize = 100;

/// Why a domain name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainNameError {
    /// Nothing was given.
    #[error("the domain name is empty")]
    Empty,
    /// The name is longer than DNS allows.
    #[error("the domain name is {length} octets long; at most {MAX_NAME_LENGTH} are allowed")]
    TooLong {
        /// Octets in the normalised name.
        length: usize,
    },
    /// Two dots in a row, or a leading dot.
    #[error("the domain name `{name}` has an empty label")]
    EmptyLabel {
        /// The offending name.
        name: String,
    },
    /// A label exceeds 63 octets.
    #[error("the label `{label}` is {length} octets long; at most {MAX_LABEL_LENGTH} are allowed")]
    LabelTooLong {
        /// The offending label.
        label: String,
        /// Its length.
        length: usize,
    },
    /// A character that may not appear in a host name.
    #[error(
        "the label `{label}` contains the character {character:?}, which is not allowed in a host name"
    )]
    InvalidCharacter {
        /// The offending label.
        label: String,
        /// The first bad character.
        character: char,
    },
    /// A label starts or ends with a hyphen.
    #[error("the label `{label}` starts or ends with a hyphen")]
    HyphenAtLabelEdge {
        /// The offending label.
        label: String,
    },
    /// `*` somewhere other than as the whole leftmost label.
    #[error("a wildcard is only allowed as the whole leftmost label (`*.example.com`)")]
    MisplacedWildcard,
    /// An IPv4 or IPv6 address was given where only a DNS name will do
    /// (DNS-01, a DNS delegation).
    #[error("`{0}` is an IP address, not a DNS name")]
    IpAddress(String),
    /// A name of one label cannot be publicly certified.
    #[error("`{0}` has a single label; a certificate needs a fully qualified name")]
    SingleLabel(String),
    /// The top-level label is all digits.
    #[error("the top-level label of `{0}` is numeric")]
    NumericTopLevel(String),
    /// IDNA processing rejected the name.
    #[error("`{name}` is not a valid internationalised domain name")]
    Idna {
        /// The name as given.
        name: String,
    },
}

/// A validated, normalised certificate name: a DNS name (possibly a `*.`
/// wildcard) or an IP address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DomainName(String);

impl DomainName {
    /// Normalises and validates a name: surrounding space is trimmed, case is
    /// folded, one trailing dot is dropped and internationalised names become
    /// punycode; an IP address (IPv6 with or without brackets) is written in
    /// its canonical form. Returns the reason when the name cannot be a
    /// certificate name.
    pub fn parse(input: &str) -> Result<Self, DomainNameError> {
        let trimmed = input.trim();
        let bare = trimmed
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or(trimmed);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(Self(ip.to_string()));
        }
        let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
        if trimmed.is_empty() {
            return Err(DomainNameError::Empty);
        }
        let (wildcard, rest) = match trimmed.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        if rest.contains('*') {
            return Err(DomainNameError::MisplacedWildcard);
        }
        let ascii = if rest.is_ascii() {
            rest.to_ascii_lowercase()
        } else {
            idna::domain_to_ascii_strict(rest).map_err(|_| DomainNameError::Idna {
                name: trimmed.to_string(),
            })?
        };
        validate_ascii_host(&ascii)?;
        let name = if wildcard {
            format!("*.{ascii}")
        } else {
            ascii
        };
        if name.len() > MAX_NAME_LENGTH {
            return Err(DomainNameError::TooLong { length: name.len() });
        }
        Ok(Self(name))
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is a `*.` wildcard name.
    pub fn is_wildcard(&self) -> bool {
        self.0.starts_with("*.")
    }

    /// The address, when this name is an IP address.
    pub fn ip(&self) -> Option<IpAddr> {
        self.0.parse().ok()
    }

    /// Whether this is a DNS name or an IP address.
    pub fn identifier_type(&self) -> IdentifierType {
        if self.ip().is_some() {
            IdentifierType::Ip
        } else {
            IdentifierType::Dns
        }
    }

    /// Refuses an IP address where only a DNS name will do.
    pub fn require_dns(&self) -> Result<&Self, DomainNameError> {
        match self.identifier_type() {
            IdentifierType::Dns => Ok(self),
            IdentifierType::Ip => Err(DomainNameError::IpAddress(self.0.clone())),
        }
    }
}

fn validate_ascii_host(name: &str) -> Result<(), DomainNameError> {
    if name.len() > MAX_NAME_LENGTH {
        return Err(DomainNameError::TooLong { length: name.len() });
    }
    let labels: Vec<&str> = name.split('.').collect();
    for label in &labels {
        if label.is_empty() {
            return Err(DomainNameError::EmptyLabel {
                name: name.to_string(),
            });
        }
        if label.len() > MAX_LABEL_LENGTH {
            return Err(DomainNameError::LabelTooLong {
                label: label.to_string(),
                length: label.len(),
            });
        }
        if let Some(character) = label
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            return Err(DomainNameError::InvalidCharacter {
                label: label.to_string(),
                character,
            });
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(DomainNameError::HyphenAtLabelEdge {
                label: label.to_string(),
            });
        }
        if let Some(encoded) = label.strip_prefix("xn--") {
            // A punycode label must decode; otherwise it is not a real A-label.
            let (_, result) = idna::domain_to_unicode(label);
            if result.is_err() || encoded.is_empty() {
                return Err(DomainNameError::Idna {
                    name: name.to_string(),
                });
            }
        }
    }
    if labels.len() < 2 {
        return Err(DomainNameError::SingleLabel(name.to_string()));
    }
    if labels
        .last()
        .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(DomainNameError::NumericTopLevel(name.to_string()));
    }
    Ok(())
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for DomainName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DomainName {
    type Error = DomainNameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<DomainName> for String {
    fn from(value: DomainName) -> Self {
        value.0
    }
}

impl std::str::FromStr for DomainName {
    type Err = DomainNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Why a set of names was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FqdnSetError {
    /// No names at all.
    #[error("no domain names were given")]
    Empty,
    /// More names than one certificate may carry.
    #[error("{count} domain names were given; at most {MAX_NAMES_PER_SET} fit one certificate")]
    TooMany {
        /// How many distinct names were given.
        count: usize,
    },
    /// One of the names is invalid.
    #[error("invalid domain name `{input}`: {reason}")]
    InvalidName {
        /// The name as given.
        input: String,
        /// Why it was refused.
        reason: DomainNameError,
    },
    /// A wildcard can only be validated by DNS-01, and no DNS-01 method is
    /// configured.
    #[error(
        "`{0}` is a wildcard; ordering it needs DNS-01 validation, and no DNS-01 method is configured (`[dns]` in peter.toml)"
    )]
    WildcardNeedsDns01(DomainName),
    /// A domain set to dns-01, and no DNS-01 method is configured.
    #[error(
        "`{0}` is validated by dns-01, and no DNS-01 method is configured (`[dns]` in peter.toml)"
    )]
    Dns01Unconfigured(DomainName),
    /// An IP address, and the ACME server is not set to take IP identifiers.
    #[error(
        "`{address}` is an IP address, and the ACME server `{server}` is not set to take IP identifiers (acme-server edit {server} --ip-identifiers true)"
    )]
    IpIdentifiersDisabled {
        /// The address.
        address: DomainName,
        /// The ACME server's name.
        server: String,
    },
}

/// The canonical set of names a certificate covers: deduplicated, normalised
/// and sorted. Two sets are the same set exactly when they hold the same names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UniqueFqdnSet(BTreeSet<DomainName>);

impl UniqueFqdnSet {
    /// Builds a set from any list of names, in any order, with duplicates.
    pub fn parse<I, S>(names: I) -> Result<Self, FqdnSetError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut set = BTreeSet::new();
        for input in names {
            let input = input.as_ref();
            let name = DomainName::parse(input).map_err(|reason| FqdnSetError::InvalidName {
                input: input.to_string(),
                reason,
            })?;
            set.insert(name);
        }
        Self::from_names(set)
    }

    /// Builds a set from names already parsed.
    pub fn from_names(names: impl IntoIterator<Item = DomainName>) -> Result<Self, FqdnSetError> {
        let set: BTreeSet<DomainName> = names.into_iter().collect();
        if set.is_empty() {
            return Err(FqdnSetError::Empty);
        }
        if set.len() > MAX_NAMES_PER_SET {
            return Err(FqdnSetError::TooMany { count: set.len() });
        }
        Ok(Self(set))
    }

    /// The names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &DomainName> {
        self.0.iter()
    }

    /// How many names the set holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a set holds at least one name.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the set holds exactly one name (a "single" certificate).
    pub fn is_single_domain(&self) -> bool {
        self.0.len() == 1
    }

    /// Whether `name` is one of the set's names.
    pub fn contains(&self, name: &DomainName) -> bool {
        self.0.contains(name)
    }

    /// The identity of the set: its sorted names joined by commas.
    pub fn canonical_string(&self) -> String {
        self.0
            .iter()
            .map(DomainName::as_str)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The first IP address of the set, if it holds any.
    pub fn first_ip(&self) -> Option<&DomainName> {
        self.0.iter().find(|n| n.ip().is_some())
    }

    /// Refuses a set holding a wildcard when no DNS-01 method is configured
    /// (`dns01_available` false): only DNS-01 validates a wildcard.
    pub fn ensure_orderable(&self, dns01_available: bool) -> Result<(), FqdnSetError> {
        match self.0.iter().find(|n| n.is_wildcard()) {
            Some(name) if !dns01_available => Err(FqdnSetError::WildcardNeedsDns01(name.clone())),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lowercased_and_lose_their_trailing_dot() {
        assert_eq!(
            DomainName::parse(" Example.COM. ").unwrap().as_str(),
            "example.com"
        );
    }

    #[test]
    fn internationalised_names_become_punycode() {
        assert_eq!(
            DomainName::parse("Bücher.example").unwrap().as_str(),
            "xn--bcher-kva.example"
        );
    }

    #[test]
    fn invalid_names_are_refused_with_their_reason() {
        use DomainNameError::*;
        let long_label = "a".repeat(64);
        let long_name = format!("{}.com", ["abcdefghi"; 26].join("."));
        type Check = fn(&DomainNameError) -> bool;
        let cases: Vec<(&str, Check)> = vec![
            ("", |e| matches!(e, Empty)),
            (".", |e| matches!(e, Empty)),
            ("a..example.com", |e| matches!(e, EmptyLabel { .. })),
            (&long_label, |e| {
                matches!(e, LabelTooLong { length: 64, .. })
            }),
            (&long_name, |e| matches!(e, TooLong { .. })),
            ("exa_mple.com", |e| {
                matches!(e, InvalidCharacter { character: '_', .. })
            }),
            ("exa mple.com", |e| matches!(e, InvalidCharacter { .. })),
            ("-example.com", |e| matches!(e, HyphenAtLabelEdge { .. })),
            ("www.*.example.com", |e| matches!(e, MisplacedWildcard)),
            ("*example.com", |e| matches!(e, MisplacedWildcard)),
            ("*.*.example.com", |e| matches!(e, MisplacedWildcard)),
            ("*.127.0.0.1", |e| matches!(e, NumericTopLevel(_))),
            ("[::1", |e| matches!(e, InvalidCharacter { .. })),
            ("localhost", |e| matches!(e, SingleLabel(_))),
            ("1.2.3.999", |e| matches!(e, NumericTopLevel(_))),
            ("xn--55555555.example", |e| matches!(e, Idna { .. })),
        ];
        for (input, check) in cases {
            let err = DomainName::parse(input).expect_err(input);
            assert!(check(&err), "{input:?} gave {err:?}");
            assert!(!err.to_string().is_empty());
        }
    }

    #[test]
    fn a_name_of_exactly_253_octets_is_accepted() {
        let name = format!(
            "{}.{}.{}.{}",
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61)
        );
        assert_eq!(name.len(), 253);
        assert!(DomainName::parse(&name).is_ok());
        assert!(matches!(
            DomainName::parse(&format!("x{name}")),
            Err(DomainNameError::LabelTooLong { .. }) | Err(DomainNameError::TooLong { .. })
        ));
    }

    #[test]
    fn ip_addresses_are_names_of_their_own_type_in_canonical_form() {
        for (input, canonical) in [
            ("127.0.0.1", "127.0.0.1"),
            (" 192.0.2.7 ", "192.0.2.7"),
            ("::1", "::1"),
            ("[2001:DB8:0:0::1]", "2001:db8::1"),
            ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ] {
            let name = DomainName::parse(input).unwrap();
            assert_eq!(name.as_str(), canonical, "{input}");
            assert_eq!(name.identifier_type(), IdentifierType::Ip);
            assert!(!name.is_wildcard());
            assert!(matches!(
                name.require_dns(),
                Err(DomainNameError::IpAddress(_))
            ));
        }
        let dns = DomainName::parse("example.com").unwrap();
        assert_eq!(dns.identifier_type(), IdentifierType::Dns);
        assert!(dns.ip().is_none());
        let set = UniqueFqdnSet::parse(["example.com", "::1"]).unwrap();
        assert_eq!(set.first_ip().map(DomainName::as_str), Some("::1"));
    }

    #[test]
    fn a_leftmost_wildcard_is_a_valid_name() {
        let name = DomainName::parse("*.Example.com").unwrap();
        assert!(name.is_wildcard());
        assert_eq!(name.as_str(), "*.example.com");
    }

    #[test]
    fn a_set_is_deduplicated_and_sorted() {
        let set = UniqueFqdnSet::parse(["www.example.com", "Example.com", "example.com."]).unwrap();
        assert_eq!(set.canonical_string(), "example.com,www.example.com");
        assert_eq!(set.len(), 2);
        assert!(!set.is_single_domain());
        let same = UniqueFqdnSet::parse(["example.com", "WWW.example.com"]).unwrap();
        assert_eq!(set, same);
    }

    #[test]
    fn an_empty_or_oversized_set_is_refused() {
        assert_eq!(
            UniqueFqdnSet::parse(Vec::<&str>::new()),
            Err(FqdnSetError::Empty)
        );
        let many: Vec<String> = (0..101).map(|i| format!("n{i}.example.com")).collect();
        assert_eq!(
            UniqueFqdnSet::parse(&many),
            Err(FqdnSetError::TooMany { count: 101 })
        );
    }

    #[test]
    fn ordering_a_wildcard_fails_with_a_typed_error() {
        let set = UniqueFqdnSet::parse(["*.example.com", "example.com"]).unwrap();
        assert!(matches!(
            set.ensure_orderable(false),
            Err(FqdnSetError::WildcardNeedsDns01(_))
        ));
        assert!(set.ensure_orderable(true).is_ok());
        assert!(
            UniqueFqdnSet::parse(["example.com"])
                .unwrap()
                .ensure_orderable(false)
                .is_ok()
        );
    }
}
