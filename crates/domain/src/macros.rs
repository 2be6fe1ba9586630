//! One macro for the closed string enums of the domain (statuses, roles, modes…), so that the
//! database text, the GraphQL enum value, serde and `FromStr` can never disagree with `as_str`.

/// A string did not name any variant of a closed enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind}: {value:?}")]
pub struct ParseEnumError {
    /// Which enum was being parsed, e.g. "order status".
    pub kind: &'static str,
    /// The text that matched nothing.
    pub value: String,
}

/// Declares `enum Name: "kind" { Variant => "TEXT", … }` with `ALL`, `as_str`, `Display`,
/// `FromStr`, `Serialize` and `Deserialize`, all driven by the one table of texts.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $kind:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        // With the `sea-orm` feature the enum is a column type, stored as its text: entities hold
        // `OrderStatus`, not a `String` parsed by hand, and filters take the enum itself.
        #[cfg_attr(feature = "sea-orm", derive(::sea_orm::DeriveValueType), sea_orm(value_type = "String"))]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable text stored in the database and used as the API enum value.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::ParseEnumError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::ParseEnumError { kind: $kind, value: s.to_owned() }),
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                // Parsed from the text as the deserializer lends it, without a copy: order pages
                // read their events' statuses and actors this way, three per event.
                struct Text;
                impl<'de> ::serde::de::Visitor<'de> for Text {
                    type Value = $name;

                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        write!(f, "the text of a {}", $kind)
                    }

                    fn visit_str<E: ::serde::de::Error>(self, text: &str) -> Result<$name, E> {
                        text.parse().map_err(E::custom)
                    }
                }
                deserializer.deserialize_str(Text)
            }
        }
    };
}

/// Test helper: every variant survives `as_str` → `FromStr` and serde deserialisation, texts are
/// unique, and junk is refused.
#[cfg(test)]
pub(crate) fn assert_round_trip<T>(all: &[T], as_str: fn(T) -> &'static str)
where
    T: Copy + PartialEq + std::fmt::Debug + std::fmt::Display,
    T: std::str::FromStr<Err = ParseEnumError> + for<'de> serde::Deserialize<'de>,
{
    use serde::de::IntoDeserializer;
    let mut seen = std::collections::HashSet::new();
    for &v in all {
        let text = as_str(v);
        assert!(seen.insert(text), "duplicate text {text}");
        assert_eq!(v.to_string(), text);
        assert_eq!(text.parse::<T>(), Ok(v));
        let de: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
            text.into_deserializer();
        assert_eq!(T::deserialize(de), Ok(v));
        assert!(text.to_ascii_lowercase().parse::<T>().is_err() || text.is_empty());
    }
    let junk = "NO_SUCH_VARIANT";
    let err = junk.parse::<T>().err();
    assert_eq!(err.as_ref().map(|e| e.value.as_str()), Some(junk));
    let de: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
        junk.into_deserializer();
    assert!(T::deserialize(de).is_err());
}
