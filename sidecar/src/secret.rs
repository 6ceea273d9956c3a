//! [`Secret`]: a shared secret (the chaos token, the link token). Generated
//! from the OS's randomness, compared in constant time, never shown by
//! `Debug` or `Display`; only [`Secret::expose`] gives the text, for the
//! one place that must print or pass it on.

use subtle::ConstantTimeEq;

/// Shortest link token accepted: long enough not to be guessed on loopback.
pub const MIN_LINK_TOKEN_LEN: usize = 16;

/// Why a configured secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Empty.
    #[error("must not be empty")]
    Empty,
    /// Shorter than required.
    #[error("must be at least {min} characters, got {len}")]
    TooShort {
        /// The minimum.
        min: usize,
        /// What was given.
        len: usize,
    },
    /// The OS gave no randomness.
    #[error("could not read random bytes from the OS: {0}")]
    Random(String),
}

/// A secret string.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Box<str>);

impl Secret {
    /// A configured secret of at least `min_len` characters (at least one).
    pub fn new(value: impl Into<String>, min_len: usize) -> Result<Self, SecretError> {
        let value = value.into();
        match value.len() {
            0 => Err(SecretError::Empty),
            len if len < min_len => Err(SecretError::TooShort { min: min_len, len }),
            _ => Ok(Self(value.into_boxed_str())),
        }
    }

    /// 32 hex characters (128 bits) from the OS.
    pub fn generate() -> Result<Self, SecretError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| SecretError::Random(e.to_string()))?;
        Ok(Self(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>().into_boxed_str()))
    }

    /// The secret itself: to print once when generated, or to hand to a
    /// child process or component. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when `presented` is this secret; the time taken does not depend
    /// on where they differ.
    pub fn matches(&self, presented: &str) -> bool {
        bool::from(self.0.as_bytes().ct_eq(presented.as_bytes()))
    }

    /// clap value parser for a link token (at least [`MIN_LINK_TOKEN_LEN`]).
    pub fn parse_link_token(value: &str) -> Result<Self, SecretError> {
        Self::new(value, MIN_LINK_TOKEN_LEN)
    }

    /// clap value parser for a chaos token (any non-empty string).
    pub fn parse_chaos_token(value: &str) -> Result<Self, SecretError> {
        Self::new(value, 1)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug_or_display() {
        let s = Secret::new("hunter2-hunter2-hunter2", 16).unwrap();
        assert!(!format!("{s:?} {s}").contains("hunter2"));
        assert_eq!(s.expose(), "hunter2-hunter2-hunter2");
    }

    #[test]
    fn matching_is_exact() {
        let s = Secret::new("abc", 1).unwrap();
        assert!(s.matches("abc"));
        assert!(!s.matches("abd") && !s.matches("ab") && !s.matches("abcd") && !s.matches(""));
    }

    #[test]
    fn short_and_empty_secrets_are_refused() {
        assert_eq!(Secret::parse_link_token("short"), Err(SecretError::TooShort { min: 16, len: 5 }));
        assert_eq!(Secret::parse_chaos_token(""), Err(SecretError::Empty));
    }

    #[test]
    fn generated_secrets_are_long_and_distinct() {
        let (a, b) = (Secret::generate().unwrap(), Secret::generate().unwrap());
        assert_eq!(a.expose().len(), 32);
        assert!(a.expose().chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
