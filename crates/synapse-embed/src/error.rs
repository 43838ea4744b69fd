//! Errors of the encoder. `InvalidArgument` names what was wrong (`dir`, `texts[3]`,
//! `batchSize`, a file of the folder); `Model` is a malformed or unsupported model.
use std::fmt::Display;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// A caller-supplied value (folder, text, option) is unusable. Displayed as
    /// `"<argument>: <message>"`.
    #[error("{argument}: {message}")]
    InvalidArgument { argument: String, message: String },
    /// The model files are readable but inconsistent or unsupported, or inference failed.
    #[error("{0}")]
    Model(String),
}

impl EmbedError {
    pub fn invalid(argument: impl Into<String>, message: impl Display) -> Self {
        EmbedError::InvalidArgument {
            argument: argument.into(),
            message: message.to_string(),
        }
    }

    pub fn model(message: impl Display) -> Self {
        EmbedError::Model(message.to_string())
    }
}

impl From<candle_core::Error> for EmbedError {
    fn from(e: candle_core::Error) -> Self {
        EmbedError::Model(format!("model: {e}"))
    }
}

pub type Result<T> = std::result::Result<T, EmbedError>;
