//! Local Hugging Face sentence-transformer folders (all-MiniLM-L6-v2, bge-small, e5-small, …)
//! on the CPU, with no Python and no network: `tokenizer.json` through the `tokenizers` crate,
//! `model.safetensors` through a small BERT forward on `candle`, then the pooling the folder's
//! `modules.json` / `1_Pooling/config.json` ask for, and L2 normalisation.
//!
//! ```no_run
//! let enc = synapse_embed::SentenceEncoder::load("models/all-MiniLM-L6-v2".as_ref(), 0).unwrap();
//! let v = enc.embed(&["a gripping film".to_string()], 32).unwrap();
//! assert_eq!(v.len(), enc.dim());
//! ```
//!
//! Throughput: texts are tokenized in parallel, sorted by length so each batch pads little, and
//! batches run in parallel on a dedicated rayon pool (`threads`), each single-threaded (nested
//! GEMM threading and candle's spinning op pool cost more than they gave on 2 cores). Weights
//! are read with candle's safetensors loader; the linear layers call the `gemm` crate candle
//! itself uses; attention, layer norm and GELU are plain loops.
#![deny(clippy::all)]

mod bert;
pub mod config;
mod error;

pub use config::{Pipeline, Pooling};
pub use error::{EmbedError, Result};

use bert::Bert;
use rayon::prelude::*;
use std::path::Path;
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

/// Files a folder must have, in the order they are checked.
pub const REQUIRED_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// A loaded sentence-transformer folder.
pub struct SentenceEncoder {
    tokenizer: Tokenizer,
    model: Bert,
    pipeline: Pipeline,
    pool: rayon::ThreadPool,
    threads: usize,
}

impl std::fmt::Debug for SentenceEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentenceEncoder")
            .field("dim", &self.dim())
            .field("pipeline", &self.pipeline)
            .field("threads", &self.threads)
            .finish()
    }
}

/// Check that `dir` is a folder holding every file of [`REQUIRED_FILES`]; the error names the
/// first one missing.
pub fn check_folder(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        return Err(EmbedError::invalid(
            "dir",
            format!("{} is not a directory", dir.display()),
        ));
    }
    for f in REQUIRED_FILES {
        if !dir.join(f).is_file() {
            let hint = if f == "model.safetensors" && dir.join("pytorch_model.bin").is_file() {
                " (only pytorch_model.bin is there: convert it to safetensors)"
            } else {
                ""
            };
            return Err(EmbedError::invalid(
                "dir",
                format!("missing {f} in {}{hint}", dir.display()),
            ));
        }
    }
    Ok(())
}

impl SentenceEncoder {
    /// Load a folder. `threads` = 0 uses every available core.
    pub fn load(dir: &Path, threads: usize) -> Result<Self> {
        check_folder(dir)?;
        let cfg = config::read_bert_config(dir)?;
        let pipeline = config::read_pipeline(dir, &cfg)?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| EmbedError::model(format!("tokenizer.json: {e}")))?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: pipeline.max_seq_length,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction: TruncationDirection::Right,
            }))
            .map_err(|e| EmbedError::model(format!("tokenizer.json: {e}")))?;
        tokenizer.with_padding(None);
        let model = Bert::load(&dir.join("model.safetensors"), &cfg)?;
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            threads
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("synapse-embed-{i}"))
            .build()
            .map_err(|e| EmbedError::model(format!("thread pool: {e}")))?;
        Ok(SentenceEncoder {
            tokenizer,
            model,
            pipeline,
            pool,
            threads,
        })
    }

    /// Output dimension: hidden size × number of pooling modes.
    pub fn dim(&self) -> usize {
        self.model.hidden() * self.pipeline.pooling.modes()
    }

    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Token ids of `text` as the model sees them (special tokens added, truncated).
    pub fn tokenize(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self
            .tokenizer
            .encode(self.prepare(text).as_ref(), true)
            .map_err(|e| EmbedError::model(format!("tokenizer: {e}")))?;
        Ok(enc.get_ids().to_vec())
    }

    fn prepare<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        if self.pipeline.do_lower_case {
            std::borrow::Cow::Owned(text.to_lowercase())
        } else {
            std::borrow::Cow::Borrowed(text)
        }
    }

    /// Embed `texts` into a row-major `texts.len() × dim()` matrix of L2-normalised rows.
    /// `batch_size` (≥ 1) texts go through the model at a time. Empty or whitespace-only texts
    /// are an error naming the row (`texts[i]`).
    pub fn embed<S: AsRef<str> + Sync>(&self, texts: &[S], batch_size: usize) -> Result<Vec<f32>> {
        if batch_size == 0 {
            return Err(EmbedError::invalid("batchSize", "must be at least 1"));
        }
        if let Some(i) = texts.iter().position(|t| t.as_ref().trim().is_empty()) {
            return Err(EmbedError::invalid(
                format!("texts[{i}]"),
                "empty text (nothing to embed)",
            ));
        }
        self.pool.install(|| self.embed_inner(texts, batch_size))
    }

    fn embed_inner<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        batch_size: usize,
    ) -> Result<Vec<f32>> {
        let n = texts.len();
        let dim = self.dim();
        let tokens: Vec<Vec<u32>> = texts
            .par_iter()
            .map(|t| self.tokenize(t.as_ref()))
            .collect::<Result<_>>()?;
        // Longest first: batches of similar length pad little, and the big ones start early.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(tokens[i].len()));
        let batches: Vec<&[usize]> = order.chunks(batch_size).collect();
        let pooled: Vec<Vec<f32>> = batches
            .par_iter()
            .map(|rows| self.run_batch(rows, &tokens))
            .collect::<Result<_>>()?;
        let mut out = vec![0f32; n * dim];
        for (rows, vecs) in batches.iter().zip(&pooled) {
            for (j, &i) in rows.iter().enumerate() {
                out[i * dim..(i + 1) * dim].copy_from_slice(&vecs[j * dim..(j + 1) * dim]);
            }
        }
        Ok(out)
    }

    /// Forward + pool + normalise one batch; rows in `rows` order.
    fn run_batch(&self, rows: &[usize], tokens: &[Vec<u32>]) -> Result<Vec<f32>> {
        let b = rows.len();
        let s = rows.iter().map(|&i| tokens[i].len()).max().unwrap_or(0);
        let mut ids = vec![0u32; b * s];
        let mut lens = Vec::with_capacity(b);
        for (r, &i) in rows.iter().enumerate() {
            let t = &tokens[i];
            ids[r * s..r * s + t.len()].copy_from_slice(t);
            lens.push(t.len());
        }
        let hidden = self.model.forward(&ids, &lens, s)?;
        let h = self.model.hidden();
        let dim = self.dim();
        let mut out = vec![0f32; b * dim];
        for (r, &i) in rows.iter().enumerate() {
            let len = tokens[i].len();
            let states = &hidden[r * s * h..(r * s + len) * h];
            let row = &mut out[r * dim..(r + 1) * dim];
            pool_row(&self.pipeline.pooling, states, len, h, row);
            l2_normalize(row);
        }
        Ok(out)
    }
}

/// Pool the `len` unpadded token states (len × h) of one text into `out` (modes × h), in
/// sentence-transformers' order: cls, max, mean, mean_sqrt_len, lasttoken.
fn pool_row(p: &Pooling, states: &[f32], len: usize, h: usize, out: &mut [f32]) {
    let mut blocks = out.chunks_mut(h);
    if p.pooling_mode_cls_token {
        blocks.next().expect("block").copy_from_slice(&states[..h]);
    }
    if p.pooling_mode_max_tokens {
        let o = blocks.next().expect("block");
        o.fill(f32::NEG_INFINITY);
        for tok in states.chunks(h) {
            for (a, &x) in o.iter_mut().zip(tok) {
                *a = a.max(x);
            }
        }
    }
    let mut sum = vec![0f32; h];
    if p.pooling_mode_mean_tokens || p.pooling_mode_mean_sqrt_len_tokens {
        for tok in states.chunks(h) {
            for (a, &x) in sum.iter_mut().zip(tok) {
                *a += x;
            }
        }
    }
    if p.pooling_mode_mean_tokens {
        let o = blocks.next().expect("block");
        for (a, &x) in o.iter_mut().zip(&sum) {
            *a = x / len as f32;
        }
    }
    if p.pooling_mode_mean_sqrt_len_tokens {
        let o = blocks.next().expect("block");
        let d = (len as f32).sqrt();
        for (a, &x) in o.iter_mut().zip(&sum) {
            *a = x / d;
        }
    }
    if p.pooling_mode_lasttoken {
        blocks
            .next()
            .expect("block")
            .copy_from_slice(&states[(len - 1) * h..len * h]);
    }
}

fn l2_normalize(v: &mut [f32]) {
    let norm = v
        .iter()
        .map(|&x| (x as f64) * (x as f64))
        .sum::<f64>()
        .sqrt();
    if norm > 0.0 {
        let inv = (1.0 / norm) as f32;
        v.iter_mut().for_each(|x| *x *= inv);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooling_modes_follow_sentence_transformers_order() {
        // Two tokens of hidden size 2.
        let states = [1.0, -2.0, 3.0, 4.0];
        let p = Pooling {
            pooling_mode_cls_token: true,
            pooling_mode_max_tokens: true,
            pooling_mode_mean_tokens: true,
            pooling_mode_mean_sqrt_len_tokens: true,
            pooling_mode_lasttoken: true,
            ..Default::default()
        };
        let mut out = vec![0.0; 10];
        pool_row(&p, &states, 2, 2, &mut out);
        let r2 = 2f32.sqrt();
        let want = [1.0, -2.0, 3.0, 4.0, 2.0, 1.0, 4.0 / r2, 2.0 / r2, 3.0, 4.0];
        for (a, b) in out.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{out:?} vs {want:?}");
        }
    }

    #[test]
    fn l2_normalize_makes_unit_rows_and_keeps_zero() {
        let mut v = [3.0, 4.0];
        l2_normalize(&mut v);
        assert_eq!(v, [0.6, 0.8]);
        let mut z = [0.0, 0.0];
        l2_normalize(&mut z);
        assert_eq!(z, [0.0, 0.0]);
    }

    #[test]
    fn missing_file_is_named() {
        let dir = std::env::temp_dir().join(format!("synapse-embed-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.json"), "{}").unwrap();
        let e = SentenceEncoder::load(&dir, 1).unwrap_err().to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(e.starts_with("dir: missing tokenizer.json"), "{e}");
    }

    #[test]
    fn not_a_directory_is_an_argument_error() {
        let e = check_folder(Path::new("/definitely/not/here")).unwrap_err();
        assert!(matches!(e, EmbedError::InvalidArgument { ref argument, .. } if argument == "dir"));
    }
}
