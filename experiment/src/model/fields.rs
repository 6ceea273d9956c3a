//! Field paths (`method[2].provider.url`) and the error that names one.

use std::fmt;

/// Where a value sits in the experiment file, for error messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPath(String);

impl FieldPath {
    /// The top of the file.
    pub fn root() -> Self {
        Self(String::new())
    }

    /// A key of this object.
    pub fn key(&self, key: &str) -> Self {
        if self.0.is_empty() { Self(key.to_owned()) } else { Self(format!("{}.{key}", self.0)) }
    }

    /// An element of this array.
    pub fn index(&self, index: usize) -> Self {
        Self(format!("{}[{index}]", self.0))
    }

    /// The error "this field is wrong because `message`".
    pub fn invalid(&self, message: impl Into<String>) -> Invalid {
        Invalid { field: self.clone(), message: message.into() }
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() { f.write_str("(the file)") } else { f.write_str(&self.0) }
    }
}

/// One thing wrong with an experiment, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    /// The field at fault.
    pub field: FieldPath,
    /// What is wrong with it, and what would be right.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_like_the_file() {
        let path = FieldPath::root().key("method").index(2).key("provider").key("url");
        assert_eq!(path.to_string(), "method[2].provider.url");
        assert_eq!(FieldPath::root().invalid("empty").to_string(), "(the file): empty");
    }
}
