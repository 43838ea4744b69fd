//! L2-regularised logistic regression on embedding rows: the classifier of the LR baseline
//! (§6.2 of the paper) and of the labeled set.
//!
//! Minimises `Σ wᵢ·logloss(σ(β·xᵢ + b), yᵢ) / n + λ/2·‖β‖²` with full-batch Nesterov-accelerated
//! gradient descent and the fixed step `1/L`, where `L = ¼·mean(wᵢ(‖xᵢ‖² + 1)) + λ` bounds the
//! curvature: no step size to tune, monotone enough, deterministic (the parallel reduction is
//! over fixed chunks, summed in order). Gradients run over rows in parallel (rayon).
use crate::error::{invalid, Result};
use crate::matrix::Matrix;
use rayon::prelude::*;

/// Options of [`train_logistic`].
#[derive(Debug, Clone, Copy)]
pub struct LogisticOptions {
    /// L2 penalty `λ` on the weights (not the bias).
    pub l2: f64,
    /// Gradient steps.
    pub iterations: usize,
    /// Weight each class inversely to its frequency (each totals half the loss).
    pub balanced: bool,
}

/// A trained model: `P(positive | x) = σ(weights·x + bias)`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticModel {
    pub weights: Vec<f64>,
    pub bias: f64,
}

/// Rows per parallel work item (fixed, so results do not depend on the thread count).
const CHUNK: usize = 256;

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

fn dot(w: &[f32], x: &[f32]) -> f32 {
    // Eight independent partial sums: vectorises, and stays accurate enough for 512-d rows.
    let mut acc = [0f32; 8];
    let mut wc = w.chunks_exact(8);
    let mut xc = x.chunks_exact(8);
    for (a, b) in (&mut wc).zip(&mut xc) {
        for l in 0..8 {
            acc[l] += a[l] * b[l];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (a, b) in wc.remainder().iter().zip(xc.remainder()) {
        s += a * b;
    }
    s
}

/// Train on rows `rows` of `x` with labels `y` (non-zero = positive), optionally starting from
/// `init` (warm start).
pub fn train_logistic(
    x: &Matrix<'_>,
    rows: &[u32],
    y: &[u8],
    init: Option<&LogisticModel>,
    options: &LogisticOptions,
) -> Result<LogisticModel> {
    let n = rows.len();
    let d = x.dim();
    if n == 0 {
        return Err(invalid("rows", "is empty"));
    }
    if y.len() != n {
        return Err(invalid("y", format!("has {} labels for {n} rows", y.len())));
    }
    if let Some(&r) = rows.iter().find(|&&r| r as usize >= x.rows()) {
        return Err(invalid(
            "rows",
            format!("row {r} is outside 0..{}", x.rows() - 1),
        ));
    }
    let pos = y.iter().filter(|&&v| v != 0).count();
    if pos == 0 || pos == n {
        return Err(invalid(
            "y",
            "needs at least one positive and one negative example",
        ));
    }
    if !(options.l2.is_finite() && options.l2 >= 0.0) {
        return Err(invalid("l2", format!("must be >= 0, got {}", options.l2)));
    }
    if let Some(m) = init {
        if m.weights.len() != d {
            return Err(invalid(
                "init",
                format!("has {} weights for dimension {d}", m.weights.len()),
            ));
        }
    }
    let (w_pos, w_neg) = if options.balanced {
        (
            n as f64 / (2.0 * pos as f64),
            n as f64 / (2.0 * (n - pos) as f64),
        )
    } else {
        (1.0, 1.0)
    };
    let sample_w: Vec<f64> = y
        .iter()
        .map(|&v| if v != 0 { w_pos } else { w_neg })
        .collect();
    let curv: f64 = rows
        .iter()
        .zip(&sample_w)
        .map(|(&r, &w)| {
            let row = x.row(r as usize);
            w * (1.0 + row.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>())
        })
        .sum::<f64>()
        / n as f64;
    let step = 1.0 / (0.25 * curv + options.l2);

    // Parameters: d weights then the bias.
    let mut prev = vec![0f64; d + 1];
    if let Some(m) = init {
        prev[..d].copy_from_slice(&m.weights);
        prev[d] = m.bias;
    }
    let mut v = prev.clone();
    let mut v32 = vec![0f32; d];
    let inv_n = 1.0 / n as f64;
    let chunks: Vec<(usize, usize)> = (0..n)
        .step_by(CHUNK)
        .map(|a| (a, (a + CHUNK).min(n)))
        .collect();
    for it in 1..=options.iterations {
        for (a, b) in v32.iter_mut().zip(&v[..d]) {
            *a = *b as f32;
        }
        let bias = v[d];
        let partials: Vec<(Vec<f32>, f64)> = chunks
            .par_iter()
            .map(|&(a, b)| {
                let mut g = vec![0f32; d];
                let mut gb = 0f64;
                for i in a..b {
                    let row = x.row(rows[i] as usize);
                    let z = dot(&v32, row) as f64 + bias;
                    let target = if y[i] != 0 { 1.0 } else { 0.0 };
                    let gi = sample_w[i] * (sigmoid(z) - target) * inv_n;
                    let gi32 = gi as f32;
                    for (gj, &xj) in g.iter_mut().zip(row) {
                        *gj += gi32 * xj;
                    }
                    gb += gi;
                }
                (g, gb)
            })
            .collect();
        let mut grad = vec![0f64; d + 1];
        for (g, gb) in &partials {
            for (a, &b) in grad.iter_mut().zip(g) {
                *a += b as f64;
            }
            grad[d] += gb;
        }
        let mom = (it as f64 - 1.0) / (it as f64 + 2.0);
        for j in 0..=d {
            let reg = if j < d { options.l2 * v[j] } else { 0.0 };
            let next = v[j] - step * (grad[j] + reg);
            v[j] = next + mom * (next - prev[j]);
            prev[j] = next;
        }
    }
    let bias = prev[d];
    prev.truncate(d);
    Ok(LogisticModel {
        weights: prev,
        bias,
    })
}

/// `P(positive)` for rows `rows` of `x` (every row when `None`), in parallel.
pub fn score_logistic(
    model: &LogisticModel,
    x: &Matrix<'_>,
    rows: Option<&[u32]>,
) -> Result<Vec<f32>> {
    let d = x.dim();
    if model.weights.len() != d {
        return Err(invalid(
            "x",
            format!(
                "dimension {d} differs from the model's {}",
                model.weights.len()
            ),
        ));
    }
    if let Some(rs) = rows {
        if let Some(&r) = rs.iter().find(|&&r| r as usize >= x.rows()) {
            return Err(invalid(
                "rows",
                format!("row {r} is outside 0..{}", x.rows() - 1),
            ));
        }
    }
    let w32: Vec<f32> = model.weights.iter().map(|&v| v as f32).collect();
    let score = |r: usize| sigmoid(dot(&w32, x.row(r)) as f64 + model.bias) as f32;
    Ok(match rows {
        Some(rs) => rs.par_iter().map(|&r| score(r as usize)).collect(),
        None => (0..x.rows()).into_par_iter().map(score).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> (Vec<f32>, Vec<u32>, Vec<u8>) {
        // Two separable blobs in 3-d: positives along +x, negatives along -x.
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..40 {
            let s = (i as f32 * 0.37).sin() * 0.3;
            let pos = i % 4 == 0;
            x.extend_from_slice(&[if pos { 1.0 } else { -1.0 }, s, 0.5 - s]);
            y.push(pos as u8);
        }
        (x, (0..40).collect(), y)
    }

    #[test]
    fn separates_and_scores_in_unit_interval() {
        let (x, rows, y) = data();
        let m = Matrix::new("x", &x, 3).unwrap();
        let opts = LogisticOptions {
            l2: 1e-3,
            iterations: 200,
            balanced: true,
        };
        let model = train_logistic(&m, &rows, &y, None, &opts).unwrap();
        let p = score_logistic(&model, &m, None).unwrap();
        for (i, &pi) in p.iter().enumerate() {
            assert!(pi > 0.0 && pi < 1.0);
            assert_eq!(pi > 0.5, y[i] != 0, "row {i}: {pi}");
        }
        let sub = score_logistic(&model, &m, Some(&[0, 1])).unwrap();
        assert_eq!(sub, vec![p[0], p[1]]);
    }

    #[test]
    fn warm_start_and_determinism() {
        let (x, rows, y) = data();
        let m = Matrix::new("x", &x, 3).unwrap();
        let opts = LogisticOptions {
            l2: 1e-2,
            iterations: 30,
            balanced: false,
        };
        let a = train_logistic(&m, &rows, &y, None, &opts).unwrap();
        let b = train_logistic(&m, &rows, &y, None, &opts).unwrap();
        assert_eq!(a, b);
        let more = LogisticOptions {
            iterations: 60,
            ..opts
        };
        let c = train_logistic(&m, &rows, &y, Some(&a), &more).unwrap();
        assert!(c.weights[0] > a.weights[0], "more steps grow the margin");
    }

    #[test]
    fn misuse_is_an_error() {
        let (x, rows, y) = data();
        let m = Matrix::new("x", &x, 3).unwrap();
        let opts = LogisticOptions {
            l2: 0.0,
            iterations: 1,
            balanced: true,
        };
        let err = |r: Result<LogisticModel>| r.unwrap_err().to_string();
        assert!(err(train_logistic(&m, &rows, &[1; 40], None, &opts)).starts_with("y: needs"));
        assert!(err(train_logistic(&m, &[0, 99], &[1, 0], None, &opts)).starts_with("rows: row 99"));
        assert!(err(train_logistic(&m, &rows, &y[..3], None, &opts)).starts_with("y: has 3"));
        let bad = LogisticModel {
            weights: vec![0.0; 2],
            bias: 0.0,
        };
        assert!(score_logistic(&bad, &m, None)
            .unwrap_err()
            .to_string()
            .starts_with("x: dimension 3"));
    }
}
