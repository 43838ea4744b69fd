//! A small BERT encoder forward pass on candle tensors (CPU, f32). Only what sentence
//! embedding needs: embeddings, `num_hidden_layers` post-LN transformer blocks, the last hidden
//! state. Weights are read from `model.safetensors` under the Hugging Face `BertModel` names
//! (with or without a `bert.` prefix; `LayerNorm.weight/bias` or the older `gamma/beta`).
use crate::config::{Activation, BertConfig};
use crate::error::{EmbedError, Result};
use candle_core::{DType, Device, Tensor};
use std::collections::HashMap;
use std::path::Path;

struct Weights {
    map: HashMap<String, Tensor>,
    prefix: String,
}

impl Weights {
    fn load(path: &Path) -> Result<Self> {
        let map = candle_core::safetensors::load(path, &Device::Cpu)
            .map_err(|e| EmbedError::model(format!("model.safetensors: {e}")))?;
        let prefix = if map.contains_key("embeddings.word_embeddings.weight") {
            String::new()
        } else if map.contains_key("bert.embeddings.word_embeddings.weight") {
            "bert.".to_string()
        } else {
            return Err(EmbedError::model(
                "model.safetensors: no embeddings.word_embeddings.weight (not a BERT model?)",
            ));
        };
        Ok(Weights { map, prefix })
    }

    fn get(&self, name: &str, shape: &[usize]) -> Result<Tensor> {
        let full = format!("{}{name}", self.prefix);
        let t = self.map.get(&full).ok_or_else(|| {
            EmbedError::model(format!("model.safetensors: missing tensor {full}"))
        })?;
        if t.dims() != shape {
            return Err(EmbedError::model(format!(
                "model.safetensors: tensor {full} has shape {:?}, config.json implies {shape:?}",
                t.dims()
            )));
        }
        Ok(t.to_dtype(DType::F32)?)
    }

    fn layer_norm(&self, name: &str, h: usize, eps: f64) -> Result<LayerNorm> {
        let (w, b) = if self
            .map
            .contains_key(&format!("{}{name}.gamma", self.prefix))
        {
            (
                self.get(&format!("{name}.gamma"), &[h])?,
                self.get(&format!("{name}.beta"), &[h])?,
            )
        } else {
            (
                self.get(&format!("{name}.weight"), &[h])?,
                self.get(&format!("{name}.bias"), &[h])?,
            )
        };
        Ok(LayerNorm {
            w,
            b,
            eps: eps as f32,
        })
    }

    fn linear(&self, name: &str, out_dim: usize, in_dim: usize) -> Result<Linear> {
        let w = self.get(&format!("{name}.weight"), &[out_dim, in_dim])?;
        let b = self.get(&format!("{name}.bias"), &[out_dim])?;
        Linear::new(w, b)
    }
}

/// `y = x Wᵀ + b` with `Wᵀ` stored contiguous as (in, out) so the GEMM streams it.
struct Linear {
    wt: Tensor,
    b: Tensor,
}

impl Linear {
    fn new(w: Tensor, b: Tensor) -> Result<Self> {
        Ok(Linear {
            wt: w.t()?.contiguous()?,
            b,
        })
    }

    /// `x`: (n, in) → (n, out).
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.matmul(&self.wt)?.broadcast_add(&self.b)?)
    }
}

struct LayerNorm {
    w: Tensor,
    b: Tensor,
    eps: f32,
}

impl LayerNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(candle_nn::ops::layer_norm(x, &self.w, &self.b, self.eps)?)
    }
}

struct Layer {
    qkv: Linear,
    attn_out: Linear,
    ln_attn: LayerNorm,
    inter: Linear,
    out: Linear,
    ln_out: LayerNorm,
}

pub struct Bert {
    word: Tensor,
    position: Tensor,
    token_type0: Tensor,
    ln_emb: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
    hidden: usize,
    act: Activation,
    vocab: usize,
    pub max_positions: usize,
}

impl Bert {
    pub fn load(path: &Path, cfg: &BertConfig) -> Result<Self> {
        let w = Weights::load(path)?;
        let (h, i) = (cfg.hidden_size, cfg.intermediate_size);
        let word = w.get("embeddings.word_embeddings.weight", &[cfg.vocab_size, h])?;
        let position = w.get(
            "embeddings.position_embeddings.weight",
            &[cfg.max_position_embeddings, h],
        )?;
        let token_type0 = w
            .get(
                "embeddings.token_type_embeddings.weight",
                &[cfg.type_vocab_size, h],
            )?
            .narrow(0, 0, 1)?;
        let ln_emb = w.layer_norm("embeddings.LayerNorm", h, cfg.layer_norm_eps)?;
        let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
        for l in 0..cfg.num_hidden_layers {
            let p = format!("encoder.layer.{l}");
            let q = w.get(&format!("{p}.attention.self.query.weight"), &[h, h])?;
            let k = w.get(&format!("{p}.attention.self.key.weight"), &[h, h])?;
            let v = w.get(&format!("{p}.attention.self.value.weight"), &[h, h])?;
            let qb = w.get(&format!("{p}.attention.self.query.bias"), &[h])?;
            let kb = w.get(&format!("{p}.attention.self.key.bias"), &[h])?;
            let vb = w.get(&format!("{p}.attention.self.value.bias"), &[h])?;
            // One (h → 3h) projection instead of three.
            let qkv = Linear::new(
                Tensor::cat(&[&q, &k, &v], 0)?,
                Tensor::cat(&[&qb, &kb, &vb], 0)?,
            )?;
            layers.push(Layer {
                qkv,
                attn_out: w.linear(&format!("{p}.attention.output.dense"), h, h)?,
                ln_attn: w.layer_norm(
                    &format!("{p}.attention.output.LayerNorm"),
                    h,
                    cfg.layer_norm_eps,
                )?,
                inter: w.linear(&format!("{p}.intermediate.dense"), i, h)?,
                out: w.linear(&format!("{p}.output.dense"), h, i)?,
                ln_out: w.layer_norm(&format!("{p}.output.LayerNorm"), h, cfg.layer_norm_eps)?,
            });
        }
        Ok(Bert {
            word,
            position,
            token_type0,
            ln_emb,
            layers,
            heads: cfg.num_attention_heads,
            hidden: h,
            act: cfg.activation()?,
            vocab: cfg.vocab_size,
            max_positions: cfg.max_position_embeddings,
        })
    }

    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// Last hidden state of a padded batch: `ids` holds `lens.len()` rows of `s` token ids, row
    /// `r` being `lens[r]` real tokens then padding. Returns (b·s·hidden) f32, row-major; the
    /// states at padded positions are meaningless (padding is masked out as keys).
    pub fn forward(&self, ids: &[u32], lens: &[usize], s: usize) -> Result<Vec<f32>> {
        let b = lens.len();
        debug_assert_eq!(ids.len(), b * s);
        if s > self.max_positions {
            return Err(EmbedError::model(format!(
                "sequence of {s} tokens exceeds max_position_embeddings {}",
                self.max_positions
            )));
        }
        if let Some(&bad) = ids.iter().find(|&&t| t as usize >= self.vocab) {
            return Err(EmbedError::model(format!(
                "tokenizer produced id {bad} outside the vocabulary of {}",
                self.vocab
            )));
        }
        let (h, nh) = (self.hidden, self.heads);
        let d = h / nh;
        let dev = Device::Cpu;
        let ids_t = Tensor::from_slice(ids, b * s, &dev)?;
        let words = self.word.index_select(&ids_t, 0)?.reshape((b, s, h))?;
        let pos = self.position.narrow(0, 0, s)?;
        let x = words
            .broadcast_add(&pos)?
            .broadcast_add(&self.token_type0)?;
        let mut x = self.ln_emb.forward(&x.reshape((b * s, h))?)?;

        let scale = 1.0 / (d as f32).sqrt();
        for layer in &self.layers {
            let qkv = layer.qkv.forward(&x)?.flatten_all()?.to_vec1::<f32>()?;
            let ctx = attention(&qkv, lens, s, nh, d, scale);
            let ctx = Tensor::from_vec(ctx, (b * s, h), &dev)?;
            let attn = layer.attn_out.forward(&ctx)?;
            x = layer.ln_attn.forward(&(attn + &x)?)?;
            let inter = layer.inter.forward(&x)?;
            let inter = match self.act {
                Activation::GeluErf => inter.gelu_erf()?,
                Activation::GeluTanh => inter.gelu()?,
                Activation::Relu => inter.relu()?,
            };
            let out = layer.out.forward(&inter)?;
            x = layer.ln_out.forward(&(out + &x)?)?;
        }
        let last = x.flatten_all()?.to_vec1::<f32>()?;
        Ok(last)
    }
}

/// Multi-head self-attention of one padded batch. `qkv` is (b·s, 3·nh·d) row-major (all query
/// heads, then keys, then values); returns the context (b·s, nh·d). Padded keys are masked out;
/// padded query rows are left zero. Rows of the batch run in parallel.
fn attention(qkv: &[f32], lens: &[usize], s: usize, nh: usize, d: usize, scale: f32) -> Vec<f32> {
    use rayon::prelude::*;
    let h = nh * d;
    let mut ctx = vec![0f32; lens.len() * s * h];
    ctx.par_chunks_mut(s * h)
        .zip(lens.par_iter())
        .enumerate()
        .for_each(|(r, (out, &len))| {
            let base = r * s * 3 * h;
            let row = |t: usize| &qkv[base + t * 3 * h..base + (t + 1) * 3 * h];
            let mut scores = vec![0f32; len];
            for head in 0..nh {
                let (qo, ko, vo) = (head * d, h + head * d, 2 * h + head * d);
                for i in 0..len {
                    let q = &row(i)[qo..qo + d];
                    let mut max = f32::NEG_INFINITY;
                    for (j, sc) in scores.iter_mut().enumerate() {
                        let k = &row(j)[ko..ko + d];
                        let dot: f32 = q.iter().zip(k).map(|(a, b)| a * b).sum();
                        *sc = dot * scale;
                        max = max.max(*sc);
                    }
                    let mut sum = 0f32;
                    for sc in scores.iter_mut() {
                        *sc = (*sc - max).exp();
                        sum += *sc;
                    }
                    let inv = 1.0 / sum;
                    let o = &mut out[i * h + head * d..i * h + head * d + d];
                    for (j, &p) in scores.iter().enumerate() {
                        let v = &row(j)[vo..vo + d];
                        let w = p * inv;
                        for (a, &x) in o.iter_mut().zip(v) {
                            *a += w * x;
                        }
                    }
                }
            }
        });
    ctx
}
