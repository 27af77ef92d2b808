//! Command-line values of the core's closed sets: each is offered with its
//! possible values (in `--help` and shell completions) under its wire
//! spelling, the same one the API uses; the core's aliases are accepted.

use std::ffi::OsStr;
use std::marker::PhantomData;

use clap::builder::{PossibleValue, TypedValueParser};
use peter_core::model::ClosedSet;

/// Parses one of `T`'s spellings.
#[derive(Clone)]
pub struct Closed<T>(PhantomData<T>);

/// The value parser for `T`.
pub fn closed<T: ClosedSet>() -> Closed<T> {
    Closed(PhantomData)
}

impl<T: ClosedSet> TypedValueParser for Closed<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        let text = value.to_string_lossy();
        T::parse_wire(&text).map_err(|e| {
            let name = arg.map(|a| a.to_string()).unwrap_or_default();
            clap::Error::raw(
                clap::error::ErrorKind::InvalidValue,
                format!("{name}: {e}\n"),
            )
            .with_cmd(cmd)
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(T::ALL.iter().map(|v| {
            let aliases = T::ALIASES
                .iter()
                .filter(|(_, a)| a.as_str() == v.as_str())
                .map(|(alias, _)| *alias);
            PossibleValue::new(v.as_str()).aliases(aliases)
        })))
    }
}
