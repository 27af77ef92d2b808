//! Closed sets: enumerations whose values travel as fixed strings (in JSON,
//! query parameters, forms and on the command line). One trait describes
//! them all, so that the HTTP layer can document each as an OpenAPI enum and
//! the CLI can offer each as a list of possible values, without either
//! keeping a table of its own.

use super::UnknownValue;

/// An enumeration with fixed wire spellings.
pub trait ClosedSet: Copy + Send + Sync + Sized + 'static {
    /// The set's name in documents (`KeyTechnology`).
    const NAME: &'static str;
    /// What a value is, for messages (`key technology`).
    const WHAT: &'static str;
    /// Every value, in a stable order.
    const ALL: &'static [Self];

    /// Other spellings accepted on input (never written).
    const ALIASES: &'static [(&'static str, Self)] = &[];

    /// The wire spelling.
    fn as_str(self) -> &'static str;

    /// Reads a wire spelling or an accepted alias.
    fn parse_wire(text: &str) -> Result<Self, UnknownValue> {
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.as_str() == text)
            .or_else(|| {
                Self::ALIASES
                    .iter()
                    .find(|(alias, _)| *alias == text)
                    .map(|(_, v)| *v)
            })
            .ok_or_else(|| unknown::<Self>(text))
    }
}

/// The error for a spelling that is not in the set.
pub fn unknown<T: ClosedSet>(text: &str) -> UnknownValue {
    UnknownValue {
        what: T::WHAT,
        value: text.to_string(),
        expected: T::ALL
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Defines a closed set: the enum, its [`ClosedSet`] impl, `Display`,
/// `FromStr` and serde as its wire spelling.
macro_rules! closed_set {
    (
        $(#[$doc:meta])*
        $name:ident, $what:literal {
            $($(#[$vdoc:meta])* $variant:ident => $text:literal),* $(,)?
        }
        $(aliases { $($alias:literal => $avariant:ident),* $(,)? })?
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "&'static str")]
        pub enum $name {
            $($(#[$vdoc])* $variant),*
        }

        impl $crate::model::ClosedSet for $name {
            const NAME: &'static str = stringify!($name);
            const WHAT: &'static str = $what;
            const ALL: &'static [Self] = &[$($name::$variant),*];
            $(const ALIASES: &'static [(&'static str, Self)] = &[$(($alias, $name::$avariant)),*];)?
            fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($crate::model::ClosedSet::as_str(*self))
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::model::UnknownValue;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                <$name as $crate::model::ClosedSet>::parse_wire(&value)
            }
        }

        impl From<$name> for &'static str {
            fn from(value: $name) -> Self {
                $crate::model::ClosedSet::as_str(value)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::model::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$name as $crate::model::ClosedSet>::parse_wire(s)
            }
        }
    };
}

pub(crate) use closed_set;
