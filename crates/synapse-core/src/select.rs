//! Top-K candidate selection: the rows sent to the oracle in a round.
use crate::error::{invalid, Result};
use std::cmp::Ordering;

/// The `k` highest-scoring rows whose `exclude` byte is zero, best first; ties go to the
/// smaller id. Returns fewer than `k` rows when fewer are eligible.
pub fn top_candidates(scores: &[f32], k: usize, exclude: Option<&[u8]>) -> Result<Vec<u32>> {
    if k == 0 {
        return Err(invalid("k", "must be > 0"));
    }
    if scores.len() > u32::MAX as usize {
        return Err(invalid("scores", "more than 2^32 - 1 rows"));
    }
    if let Some(p) = scores.iter().position(|v| v.is_nan()) {
        return Err(invalid("scores", format!("NaN at row {p}")));
    }
    if let Some(ex) = exclude {
        if ex.len() != scores.len() {
            return Err(invalid(
                "exclude",
                format!(
                    "length {} must equal the number of scores {}",
                    ex.len(),
                    scores.len()
                ),
            ));
        }
    }
    let mut ids: Vec<u32> = (0..scores.len() as u32)
        .filter(|&i| exclude.is_none_or(|e| e[i as usize] == 0))
        .collect();
    let order = |a: &u32, b: &u32| -> Ordering {
        scores[*b as usize]
            .total_cmp(&scores[*a as usize])
            .then(a.cmp(b))
    };
    if k < ids.len() {
        ids.select_nth_unstable_by(k - 1, order);
        ids.truncate(k);
    }
    ids.sort_unstable_by(order);
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_best_not_excluded_with_ties_by_id() {
        let scores = [0.1, 0.9, 0.5, 0.9, -1.0, 0.5, 0.7];
        let ex = [0, 0, 0, 1, 0, 0, 0];
        assert_eq!(
            top_candidates(&scores, 3, Some(&ex)).unwrap(),
            vec![1, 6, 2]
        );
        assert_eq!(top_candidates(&scores, 4, None).unwrap(), vec![1, 3, 6, 2]);
        // k larger than the eligible rows
        assert_eq!(top_candidates(&scores, 100, Some(&ex)).unwrap().len(), 6);
    }

    #[test]
    fn matches_full_sort_on_random_scores() {
        let mut s = 7u64;
        let scores: Vec<f32> = (0..5000)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s % 100) as f32 / 10.0 // many ties
            })
            .collect();
        let mut all: Vec<u32> = (0..5000).collect();
        all.sort_by(|a, b| {
            scores[*b as usize]
                .total_cmp(&scores[*a as usize])
                .then(a.cmp(b))
        });
        assert_eq!(
            top_candidates(&scores, 321, None).unwrap(),
            all[..321].to_vec()
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert!(top_candidates(&[1.0], 0, None)
            .unwrap_err()
            .to_string()
            .starts_with("k:"));
        let e = top_candidates(&[1.0, f32::NAN], 1, None)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "scores: NaN at row 1");
        assert!(top_candidates(&[1.0], 1, Some(&[0, 0])).is_err());
    }
}
