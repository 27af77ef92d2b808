//! How peter's core types travel over HTTP: closed sets as documented
//! string enums ([`Wire`]), instants as RFC 3339 UTC strings
//! ([`Timestamp`]), and groups of query parameters read by one extractor
//! ([`query_params!`]).

use std::borrow::Cow;

use peter_core::model::ClosedSet;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{
    ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type,
};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A value of one of the core's closed sets: a string enum in the document,
/// its wire spelling on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Wire<E>(pub E);

impl<E: ClosedSet> Type for Wire<E> {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        Cow::Borrowed(E::NAME)
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Reference(E::NAME.to_owned())
    }

    fn register(registry: &mut Registry) {
        registry.create_schema::<Self, _>(E::NAME.to_owned(), |_| MetaSchema {
            enum_items: E::ALL
                .iter()
                .map(|v| Value::String(v.as_str().to_owned()))
                .collect(),
            ..MetaSchema::new("string")
        });
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl<E: ClosedSet> ParseFromJSON for Wire<E> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(s) => E::parse_wire(&s)
                .map(Wire)
                .map_err(|e| ParseError::custom(e.to_string())),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

impl<E: ClosedSet> ParseFromParameter for Wire<E> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        E::parse_wire(value)
            .map(Wire)
            .map_err(|e| ParseError::custom(e.to_string()))
    }
}

impl<E: ClosedSet> ToJSON for Wire<E> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.as_str().to_owned()))
    }
}

impl<'de, E: ClosedSet> serde::Deserialize<'de> for Wire<E> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        E::parse_wire(&s)
            .map(Wire)
            .map_err(serde::de::Error::custom)
    }
}

impl<E> From<E> for Wire<E> {
    fn from(value: E) -> Self {
        Wire(value)
    }
}

/// An instant, written as RFC 3339 in UTC (`2026-12-04T16:15:12Z`) and
/// documented as `format: date-time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub OffsetDateTime);

impl From<OffsetDateTime> for Timestamp {
    fn from(value: OffsetDateTime) -> Self {
        Timestamp(value)
    }
}

impl Timestamp {
    /// The RFC 3339 text.
    pub fn to_rfc3339(self) -> String {
        self.0
            .to_offset(time::UtcOffset::UTC)
            .format(&Rfc3339)
            .unwrap_or_default()
    }
}

impl Type for Timestamp {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        Cow::Borrowed("string_date-time")
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "date-time")))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ParseFromJSON for Timestamp {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(s) => Self::parse_from_parameter(&s),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

impl ParseFromParameter for Timestamp {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        OffsetDateTime::parse(value, &Rfc3339)
            .map(Timestamp)
            .map_err(|_| {
                ParseError::custom("expected an RFC 3339 date-time like 2026-12-31T00:00:00Z")
            })
    }
}

impl ToJSON for Timestamp {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.to_rfc3339()))
    }
}

/// Declares a struct of optional query parameters read by one extractor.
/// The document lists each field as its own query parameter (the admin
/// API's document post-processing expands the object this extractor
/// declares), and a value that does not parse is a 400 naming the field.
macro_rules! query_params {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[doc = $doc:literal])* $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default)]
        $vis struct $name {
            $( $(#[doc = $doc])* pub $field: Option<$ty>, )*
        }

        impl<'a> poem_openapi::ApiExtractor<'a> for $name {
            const TYPES: &'static [poem_openapi::ApiExtractorType] =
                &[poem_openapi::ApiExtractorType::Parameter];
            type ParamType = ();
            type ParamRawType = ();

            fn register(registry: &mut poem_openapi::registry::Registry) {
                $( <$ty as poem_openapi::types::Type>::register(registry); )*
            }

            fn param_in() -> Option<poem_openapi::registry::MetaParamIn> {
                Some(poem_openapi::registry::MetaParamIn::Query)
            }

            fn param_schema_ref() -> Option<poem_openapi::registry::MetaSchemaRef> {
                use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
                let mut properties = Vec::new();
                $(
                    let mut patch = MetaSchema::ANY;
                    let doc: &'static str = concat!($($doc, "\n",)* "").trim_ascii();
                    if !doc.is_empty() {
                        patch.description = Some(doc);
                    }
                    properties.push((
                        stringify!($field),
                        <$ty as poem_openapi::types::Type>::schema_ref().merge(patch),
                    ));
                )*
                Some(MetaSchemaRef::Inline(Box::new(MetaSchema {
                    properties,
                    ..MetaSchema::new("object")
                })))
            }

            async fn from_request(
                request: &'a poem::Request,
                _body: &mut poem::RequestBody,
                _options: poem_openapi::ExtractParamOptions<()>,
            ) -> poem::Result<Self> {
                let pairs: Vec<(String, String)> = request.params().unwrap_or_default();
                Ok(Self {
                    $(
                        $field: {
                            let mut values = pairs
                                .iter()
                                .filter(|(k, _)| k.as_str() == stringify!($field))
                                .map(|(_, v)| v.as_str())
                                .peekable();
                            if values.peek().is_none() {
                                None
                            } else {
                                Some(
                                    <$ty as poem_openapi::types::ParseFromParameter>::parse_from_parameters(values)
                                        .map_err(|e| poem_openapi::error::ParseParamError {
                                            name: stringify!($field),
                                            reason: e.into_message(),
                                        })?,
                                )
                            }
                        },
                    )*
                })
            }
        }
    };
}

pub(crate) use query_params;

query_params! {
    /// Which page of a list: `?page=` (from 1) and `?per_page=` (1 to 1,000;
    /// default 50).
    pub struct Paging {
        /// The page, from 1 (default 1).
        page: u64,
        /// Items per page, 1 to 1,000 (default 50).
        per_page: u64,
    }
}

impl Paging {
    /// The page asked for.
    pub fn page(&self) -> peter_core::ports::Page {
        peter_core::ports::Page::new(self.page.unwrap_or(1), self.per_page.unwrap_or(50))
    }
}

/// An optional body field that may come as its JSON value, as text (forms
/// carry only text), or empty (a form's way of not giving it).
pub(crate) fn empty_as_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de> + std::str::FromStr,
    T::Err: std::fmt::Display,
{
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Raw<T> {
        Value(T),
        Text(String),
    }
    match <Option<Raw<T>> as serde::Deserialize>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Value(v)) => Ok(Some(v)),
        Some(Raw::Text(t)) if t.trim().is_empty() => Ok(None),
        Some(Raw::Text(t)) => t.trim().parse().map(Some).map_err(serde::de::Error::custom),
    }
}

impl<E: ClosedSet> std::str::FromStr for Wire<E> {
    type Err = peter_core::model::UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        E::parse_wire(s).map(Wire)
    }
}

/// A yes/no query switch: documented as a boolean; `true`/`false`,
/// `1`/`0`, `yes`/`no` and `on`/`off` are all read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flag(pub bool);

impl Type for Flag {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        Cow::Borrowed("boolean")
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema::new("boolean")))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ParseFromParameter for Flag {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        match value.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(Flag(true)),
            "false" | "0" | "no" | "off" | "" => Ok(Flag(false)),
            _ => Err(ParseError::custom("expected true or false")),
        }
    }
}

impl ParseFromJSON for Flag {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::Bool(b) => Ok(Flag(b)),
            Value::String(s) => Self::parse_from_parameter(&s),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

impl ToJSON for Flag {
    fn to_json(&self) -> Option<Value> {
        Some(Value::Bool(self.0))
    }
}

query_params! {
    /// The id-only switch of config.json answers.
    pub struct IdOnly {
        /// Leave the PEMs out: ids only.
        id_only: Flag,
        /// Deprecated spelling of `id_only`.
        idonly: Flag,
    }
}

query_params! {
    /// What a domain's config.json takes.
    pub struct DomainConfigQuery {
        /// Leave the PEMs out: ids only.
        id_only: Flag,
        /// Deprecated spelling of `id_only`.
        idonly: Flag,
        /// Sent by the OpenResty module (lua-resty-peter_sslers) when it asks.
        openresty: Flag,
    }
}

query_params! {
    /// What autocert takes in its query string.
    pub struct AutocertQuery {
        /// Sent by the OpenResty module (lua-resty-peter_sslers) when it asks.
        openresty: Flag,
    }
}

impl DomainConfigQuery {
    /// Whether ids only were asked for, under either spelling.
    pub fn id_only(&self) -> bool {
        self.id_only.or(self.idonly).is_some_and(|f| f.0)
    }
}

impl IdOnly {
    /// Whether ids only were asked for, under either spelling.
    pub fn get(&self) -> bool {
        self.id_only.or(self.idonly).is_some_and(|f| f.0)
    }
}
