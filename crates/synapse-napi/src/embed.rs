//! Local Hugging Face sentence-transformer folders (`synapse-embed`): load a folder, embed
//! batches of strings off the main thread.
use crate::error::{count, invalid};
use crate::task::Job;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::path::PathBuf;
use std::sync::Arc;
use synapse_embed::{EmbedError, SentenceEncoder};

fn to_napi(e: EmbedError) -> Error {
    match e {
        EmbedError::InvalidArgument { argument, message } => invalid(&argument, message),
        EmbedError::Model(m) => Error::new(Status::GenericFailure, m),
    }
}

/// A loaded sentence-transformer folder (BERT family). Create with `loadHfEncoder`.
#[napi]
pub struct HfEncoder {
    inner: Arc<SentenceEncoder>,
}

#[napi]
impl HfEncoder {
    /// Output dimension (hidden size × pooling modes).
    #[napi(getter)]
    pub fn dim(&self) -> u32 {
        self.inner.dim() as u32
    }

    /// Pooling modes the folder asks for, e.g. `"mean"` or `"cls"`.
    #[napi(getter)]
    pub fn pooling(&self) -> String {
        self.inner.pipeline().pooling.describe()
    }

    /// Whether the folder ends with a `Normalize` module (rows are L2-normalised regardless).
    #[napi(getter)]
    pub fn normalize(&self) -> bool {
        self.inner.pipeline().normalize
    }

    /// Token limit per text, special tokens included; longer texts are truncated.
    #[napi(getter)]
    pub fn max_seq_length(&self) -> u32 {
        self.inner.pipeline().max_seq_length as u32
    }

    /// Threads of the encoder's own pool.
    #[napi(getter)]
    pub fn threads(&self) -> u32 {
        self.inner.threads() as u32
    }

    /// Embed `texts` into a row-major `texts.length × dim` Float32Array of L2-normalised rows,
    /// `batchSize` texts per forward pass (texts are sorted by length first). Runs off the main
    /// thread. An empty text rejects with `texts[i]: empty text`.
    #[napi(ts_return_type = "Promise<Float32Array>")]
    pub fn embed(&self, texts: Vec<String>, batch_size: f64) -> Result<AsyncTask<impl Task>> {
        let batch_size = count("batchSize", batch_size)?;
        if batch_size == 0 {
            return Err(invalid("batchSize", "must be at least 1"));
        }
        let inner = Arc::clone(&self.inner);
        Ok(Job::new(move || {
            let v = inner.embed(&texts, batch_size).map_err(to_napi)?;
            Ok(Float32Array::new(v))
        }))
    }
}

/// Load a sentence-transformer folder (config.json, tokenizer.json, model.safetensors, and
/// optionally modules.json, 1_Pooling/config.json, sentence_bert_config.json). `threads` = 0
/// uses every core. Runs off the main thread; a missing file rejects with `dir: missing <file>`.
#[napi(ts_return_type = "Promise<HfEncoder>")]
pub fn load_hf_encoder(dir: String, threads: f64) -> Result<AsyncTask<impl Task>> {
    let threads = count("threads", threads)?;
    Ok(Job::new(move || {
        let enc = SentenceEncoder::load(&PathBuf::from(dir), threads).map_err(to_napi)?;
        Ok(HfEncoder {
            inner: Arc::new(enc),
        })
    }))
}
