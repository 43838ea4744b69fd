//! A small BERT encoder forward pass (CPU, f32): candle loads the weights and gathers the
//! embeddings, the blocks run on plain buffers. Only what sentence
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
            w: w.to_vec1::<f32>()?,
            b: b.to_vec1::<f32>()?,
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
    wt: Vec<f32>,
    b: Vec<f32>,
    din: usize,
    dout: usize,
}

impl Linear {
    fn new(w: Tensor, b: Tensor) -> Result<Self> {
        let (dout, din) = w.dims2()?;
        Ok(Linear {
            wt: w.t()?.contiguous()?.flatten_all()?.to_vec1::<f32>()?,
            b: b.to_vec1::<f32>()?,
            din,
            dout,
        })
    }

    /// `x`: (n, in) row-major → (n, out). Single-threaded: batches run in parallel instead.
    fn forward(&self, x: &[f32]) -> Vec<f32> {
        let n = x.len() / self.din;
        let mut y = Vec::with_capacity(n * self.dout);
        for _ in 0..n {
            y.extend_from_slice(&self.b);
        }
        // SAFETY: dst is n×dout, lhs n×din, rhs din×dout, all row-major and in bounds.
        unsafe {
            gemm::gemm(
                n,
                self.dout,
                self.din,
                y.as_mut_ptr(),
                1,
                self.dout as isize,
                true,
                x.as_ptr(),
                1,
                self.din as isize,
                self.wt.as_ptr(),
                1,
                self.dout as isize,
                1.0f32,
                1.0f32,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
        y
    }
}

struct LayerNorm {
    w: Vec<f32>,
    b: Vec<f32>,
    eps: f32,
}

impl LayerNorm {
    /// In place over rows of `w.len()`.
    fn forward(&self, x: &mut [f32]) {
        let h = self.w.len();
        for row in x.chunks_mut(h) {
            let mean = row.iter().sum::<f32>() / h as f32;
            let var = row.iter().map(|&v| (v - mean) * (v - mean)).sum::<f32>() / h as f32;
            let inv = 1.0 / (var + self.eps).sqrt();
            for ((v, &g), &b) in row.iter_mut().zip(&self.w).zip(&self.b) {
                *v = (*v - mean) * inv * g + b;
            }
        }
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
        let mut x = x.reshape((b * s, h))?.flatten_all()?.to_vec1::<f32>()?;
        self.ln_emb.forward(&mut x);

        let scale = 1.0 / (d as f32).sqrt();
        for layer in &self.layers {
            let qkv = layer.qkv.forward(&x);
            let ctx = attention(&qkv, lens, s, nh, d, scale);
            let attn = layer.attn_out.forward(&ctx);
            x.iter_mut().zip(&attn).for_each(|(a, &y)| *a += y);
            layer.ln_attn.forward(&mut x);
            let mut inter = layer.inter.forward(&x);
            match self.act {
                Activation::GeluErf => inter.iter_mut().for_each(|v| *v = gelu_erf(*v)),
                Activation::GeluTanh => inter.iter_mut().for_each(|v| *v = gelu_tanh(*v)),
                Activation::Relu => inter.iter_mut().for_each(|v| *v = v.max(0.0)),
            }
            let out = layer.out.forward(&inter);
            x.iter_mut().zip(&out).for_each(|(a, &y)| *a += y);
            layer.ln_out.forward(&mut x);
        }
        Ok(x)
    }
}

/// Multi-head self-attention of one padded batch. `qkv` is (b·s, 3·nh·d) row-major (all query
/// heads, then keys, then values); returns the context (b·s, nh·d). Padded keys are masked out;
/// padded query rows are left zero. Single-threaded: batches run in parallel.
fn attention(qkv: &[f32], lens: &[usize], s: usize, nh: usize, d: usize, scale: f32) -> Vec<f32> {
    let h = nh * d;
    let mut ctx = vec![0f32; lens.len() * s * h];
    ctx.chunks_mut(s * h)
        .zip(lens.iter())
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

/// Exact GELU (`hidden_act: "gelu"`), `x·Φ(x)`. erf by Abramowitz & Stegun 7.1.26 (absolute
/// error ≤ 1.5e-7, below f32 rounding of the activations), much cheaper than a libm call.
fn gelu_erf(x: f32) -> f32 {
    let z = (x * std::f32::consts::FRAC_1_SQRT_2).abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
    let erf_abs = 1.0 - poly * (-z * z).exp();
    let erf = if x < 0.0 { -erf_abs } else { erf_abs };
    0.5 * x * (1.0 + erf)
}

fn gelu_tanh(x: f32) -> f32 {
    let c = (2.0f32 / std::f32::consts::PI).sqrt();
    0.5 * x * (1.0 + (c * (x + 0.044715 * x * x * x)).tanh())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gelu_erf_matches_libm_erf() {
        for i in -800..=800 {
            let x = i as f32 / 100.0;
            let want = 0.5 * x as f64 * (1.0 + libm::erf(x as f64 / std::f64::consts::SQRT_2));
            let got = gelu_erf(x) as f64;
            assert!(
                (got - want).abs() < 2e-6 * (1.0 + x.abs() as f64),
                "x {x}: {got} vs {want}"
            );
        }
    }
}
