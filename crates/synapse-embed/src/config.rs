//! The files of a sentence-transformers folder: `config.json` (the encoder), `modules.json`
//! (the pipeline), `1_Pooling/config.json`, `sentence_bert_config.json`.
use crate::error::{EmbedError, Result};
use serde::Deserialize;
use std::path::Path;

/// What the forward pass needs from `config.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct BertConfig {
    #[serde(default = "default_model_type")]
    pub model_type: String,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    #[serde(default = "default_max_pos")]
    pub max_position_embeddings: usize,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "default_pos_type")]
    pub position_embedding_type: String,
}

fn default_model_type() -> String {
    "bert".into()
}
fn default_act() -> String {
    "gelu".into()
}
fn default_max_pos() -> usize {
    512
}
fn default_type_vocab() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}
fn default_pos_type() -> String {
    "absolute".into()
}

/// The activation of the feed-forward block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `gelu`: the exact erf form.
    GeluErf,
    /// `gelu_new`, `gelu_pytorch_tanh`, `gelu_fast`: the tanh approximation.
    GeluTanh,
    Relu,
}

impl BertConfig {
    pub fn activation(&self) -> Result<Activation> {
        match self.hidden_act.as_str() {
            "gelu" => Ok(Activation::GeluErf),
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Ok(Activation::GeluTanh),
            "relu" => Ok(Activation::Relu),
            other => Err(EmbedError::model(format!(
                "config.json: unsupported hidden_act {other:?} (supported: gelu, gelu_new, gelu_pytorch_tanh, relu)"
            ))),
        }
    }

    pub fn validate(&self) -> Result<()> {
        if self.model_type != "bert" {
            return Err(EmbedError::model(format!(
                "config.json: unsupported model_type {:?} (this encoder runs BERT-family models: model_type \"bert\")",
                self.model_type
            )));
        }
        if self.position_embedding_type != "absolute" {
            return Err(EmbedError::model(format!(
                "config.json: unsupported position_embedding_type {:?} (only \"absolute\")",
                self.position_embedding_type
            )));
        }
        if self.num_attention_heads == 0
            || self.hidden_size == 0
            || !self.hidden_size.is_multiple_of(self.num_attention_heads)
        {
            return Err(EmbedError::model(format!(
                "config.json: hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            )));
        }
        self.activation()?;
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
struct ModuleEntry {
    #[serde(default)]
    path: String,
    #[serde(rename = "type")]
    kind: String,
}

/// `1_Pooling/config.json`. Several modes may be on: their outputs are concatenated in
/// sentence-transformers' order (cls, max, mean, mean_sqrt_len, lasttoken).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Pooling {
    #[serde(default)]
    pub pooling_mode_cls_token: bool,
    #[serde(default)]
    pub pooling_mode_max_tokens: bool,
    #[serde(default)]
    pub pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pub pooling_mode_mean_sqrt_len_tokens: bool,
    #[serde(default)]
    pub pooling_mode_weightedmean_tokens: bool,
    #[serde(default)]
    pub pooling_mode_lasttoken: bool,
    #[serde(default)]
    pub include_prompt: Option<bool>,
}

impl Pooling {
    pub fn mean() -> Self {
        Pooling {
            pooling_mode_mean_tokens: true,
            ..Default::default()
        }
    }

    /// How many hidden-size blocks a pooled vector has.
    pub fn modes(&self) -> usize {
        [
            self.pooling_mode_cls_token,
            self.pooling_mode_max_tokens,
            self.pooling_mode_mean_tokens,
            self.pooling_mode_mean_sqrt_len_tokens,
            self.pooling_mode_lasttoken,
        ]
        .iter()
        .filter(|&&b| b)
        .count()
    }

    /// Human-readable list of the modes on, e.g. `"mean"`.
    pub fn describe(&self) -> String {
        let mut v = Vec::new();
        if self.pooling_mode_cls_token {
            v.push("cls");
        }
        if self.pooling_mode_max_tokens {
            v.push("max");
        }
        if self.pooling_mode_mean_tokens {
            v.push("mean");
        }
        if self.pooling_mode_mean_sqrt_len_tokens {
            v.push("mean_sqrt_len");
        }
        if self.pooling_mode_lasttoken {
            v.push("lasttoken");
        }
        v.join("+")
    }
}

#[derive(Debug, Default, Deserialize)]
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
    #[serde(default)]
    do_lower_case: bool,
}

/// The sentence-transformers pipeline of a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    pub pooling: Pooling,
    /// Whether the folder itself ends with a `Normalize` module. Output rows are L2-normalised
    /// either way (the `Embedder` contract); this is reported for information.
    pub normalize: bool,
    /// Token limit (including special tokens) from `sentence_bert_config.json`, capped by the
    /// position table; defaults to `max_position_embeddings`.
    pub max_seq_length: usize,
    pub do_lower_case: bool,
}

fn read_json<T: for<'de> Deserialize<'de>>(dir: &Path, rel: &str) -> Result<T> {
    let path = dir.join(rel);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            EmbedError::invalid("dir", format!("missing {rel} in {}", dir.display()))
        } else {
            EmbedError::invalid(
                "dir",
                format!("cannot read {rel} in {}: {e}", dir.display()),
            )
        }
    })?;
    serde_json::from_str(&text).map_err(|e| EmbedError::model(format!("{rel}: {e}")))
}

pub fn read_bert_config(dir: &Path) -> Result<BertConfig> {
    let c: BertConfig = read_json(dir, "config.json")?;
    c.validate()?;
    Ok(c)
}

/// Read `modules.json` and the module configs it points to. A folder without `modules.json`
/// is a plain transformer: mean pooling, as sentence-transformers does for it.
pub fn read_pipeline(dir: &Path, cfg: &BertConfig) -> Result<Pipeline> {
    let mut pooling = None;
    let mut normalize = false;
    if dir.join("modules.json").is_file() {
        let modules: Vec<ModuleEntry> = read_json(dir, "modules.json")?;
        for (i, m) in modules.iter().enumerate() {
            let kind = m.kind.rsplit('.').next().unwrap_or(&m.kind);
            match kind {
                "Transformer" if i == 0 => {}
                "Pooling" => {
                    let rel = format!("{}/config.json", m.path.trim_end_matches('/'));
                    let p: Pooling = read_json(dir, &rel)?;
                    if p.pooling_mode_weightedmean_tokens {
                        return Err(EmbedError::model(format!(
                            "{rel}: pooling_mode_weightedmean_tokens is not supported"
                        )));
                    }
                    if p.modes() == 0 {
                        return Err(EmbedError::model(format!("{rel}: no pooling mode is on")));
                    }
                    pooling = Some(p);
                }
                "Normalize" => normalize = true,
                other => {
                    return Err(EmbedError::model(format!(
                        "modules.json: module {i} of type {other:?} is not supported (supported: Transformer, Pooling, Normalize)"
                    )))
                }
            }
        }
    }
    let sbert: SentenceBertConfig = if dir.join("sentence_bert_config.json").is_file() {
        read_json(dir, "sentence_bert_config.json")?
    } else {
        SentenceBertConfig::default()
    };
    let max_seq_length = sbert
        .max_seq_length
        .unwrap_or(cfg.max_position_embeddings)
        .min(cfg.max_position_embeddings);
    if max_seq_length < 2 {
        return Err(EmbedError::model(format!(
            "sentence_bert_config.json: max_seq_length {max_seq_length} is too small"
        )));
    }
    Ok(Pipeline {
        pooling: pooling.unwrap_or_else(Pooling::mean),
        normalize,
        max_seq_length,
        do_lower_case: sbert.do_lower_case,
    })
}
