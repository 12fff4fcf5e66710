//! Pure types and rules: conversations and their events, intents, orders, text validation and
//! the triage policy. No I/O here: the store turns these types into text at its edge.

/// An enum that is stored and sent as one of a fixed set of snake_case names: `name()` and
/// `parse()` are the only conversions to and from text, and serde uses the same names.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            pub fn parse(name: &str) -> Option<Self> {
                match name {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

pub mod agent;
pub mod audit;
pub mod cart;
pub mod catalogue;
pub mod conversation;
pub mod countries;
pub mod events;
pub mod insights;
pub mod intent;
pub mod login;
pub mod masking;
pub mod model;
pub mod network;
pub mod orders;
pub mod outbound;
pub mod outcome;
pub mod parse;
pub mod privacy;
pub mod quick_reply;
pub mod text;
pub mod triage;
pub mod validation;

#[cfg(test)]
mod tests {
    named_enum! {
        /// A test enum.
        pub enum Colour {
            Red = "red",
            DarkBlue = "dark_blue",
        }
    }

    #[test]
    fn named_enums_round_trip_through_their_names_and_serde() {
        for c in Colour::ALL {
            assert_eq!(Colour::parse(c.name()), Some(*c));
            assert_eq!(serde_json::to_string(c).unwrap(), format!("\"{c}\""));
        }
        assert_eq!(Colour::parse("green"), None);
        assert_eq!(Colour::DarkBlue.name(), "dark_blue");
    }
}
