//! The one error type of tunelab. Every public function that can fail on user input returns
//! `Result<_, Error>`; messages name the field, the value that was given and what is allowed,
//! because a panic in wasm kills the page's engine.

use std::fmt;

/// What went wrong, in words a user can act on.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// An argument is out of its allowed range or of the wrong kind.
    InvalidArgument {
        field: String,
        value: String,
        allowed: String,
    },
    /// A name (layer, activation, loss, optimizer, metric, ...) that tunelab does not know.
    UnknownName {
        kind: String,
        name: String,
        valid: Vec<String>,
    },
    /// Two shapes that must agree do not.
    ShapeMismatch {
        what: String,
        expected: Vec<usize>,
        got: Vec<usize>,
    },
    /// Data that cannot be used: empty, NaN or infinite values, malformed files.
    Data(String),
    /// A file could not be read or written.
    Io(String),
    /// A document (JSON spec, weights) could not be parsed.
    Parse(String),
    /// An operation that needs a compiled or built model was called too early.
    State(String),
    /// Inside a tuner trial: this trial cannot succeed (oversized model, ...); mark it failed
    /// without retrying (KerasTuner's `FailedTrialError`).
    FailedTrial(String),
    /// Inside a tuner trial: stop the whole search (KerasTuner's `FatalError`).
    Fatal(String),
    /// The GPU is unusable (no adapter, device lost, out of device memory); work can go on
    /// on the CPU.
    Device(String),
}

/// `Result` with tunelab's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// `field` got `value`, but only `allowed` is accepted.
    pub fn invalid(
        field: impl Into<String>,
        value: impl fmt::Display,
        allowed: impl Into<String>,
    ) -> Self {
        Error::InvalidArgument {
            field: field.into(),
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }

    /// An unknown `kind` called `name`; `valid` lists the names that exist.
    pub fn unknown(kind: impl Into<String>, name: impl Into<String>, valid: &[&str]) -> Self {
        Error::UnknownName {
            kind: kind.into(),
            name: name.into(),
            valid: valid.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Shapes of `what` disagree.
    pub fn shape(what: impl Into<String>, expected: &[usize], got: &[usize]) -> Self {
        Error::ShapeMismatch {
            what: what.into(),
            expected: expected.to_vec(),
            got: got.to_vec(),
        }
    }

    /// Unusable data, with a message saying why.
    pub fn data(msg: impl Into<String>) -> Self {
        Error::Data(msg.into())
    }

    /// Malformed document.
    pub fn parse(msg: impl Into<String>) -> Self {
        Error::Parse(msg.into())
    }

    /// Wrong order of calls (fit before compile, ...).
    pub fn state(msg: impl Into<String>) -> Self {
        Error::State(msg.into())
    }
}

fn fmt_shape(s: &[usize]) -> String {
    let inner: Vec<String> = s.iter().map(|d| d.to_string()).collect();
    if s.len() == 1 {
        format!("({},)", inner[0])
    } else {
        format!("({})", inner.join(", "))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument {
                field,
                value,
                allowed,
            } => write!(
                f,
                "invalid value for `{field}`: {value} (allowed: {allowed})"
            ),
            Error::UnknownName { kind, name, valid } => write!(
                f,
                "unknown {kind} `{name}`; valid {kind} names are: {}",
                valid.join(", ")
            ),
            Error::ShapeMismatch {
                what,
                expected,
                got,
            } => write!(
                f,
                "shape mismatch in {what}: expected {}, got {}",
                fmt_shape(expected),
                fmt_shape(got)
            ),
            Error::Data(m) => write!(f, "bad data: {m}"),
            Error::Io(m) => write!(f, "i/o error: {m}"),
            Error::Parse(m) => write!(f, "parse error: {m}"),
            Error::State(m) => write!(f, "{m}"),
            Error::FailedTrial(m) => write!(f, "{m}"),
            Error::Fatal(m) => write!(f, "{m}"),
            Error::Device(m) => write!(f, "GPU error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Parse(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_field_value_and_allowed() {
        let e = Error::invalid("batch_size", 0, "an integer >= 1");
        assert_eq!(
            e.to_string(),
            "invalid value for `batch_size`: 0 (allowed: an integer >= 1)"
        );
        let e = Error::unknown("activation", "rleu", &["relu", "tanh"]);
        assert_eq!(
            e.to_string(),
            "unknown activation `rleu`; valid activation names are: relu, tanh"
        );
        let e = Error::shape("Dense input", &[32, 64], &[32, 10]);
        assert_eq!(
            e.to_string(),
            "shape mismatch in Dense input: expected (32, 64), got (32, 10)"
        );
    }
}
