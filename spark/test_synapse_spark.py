"""Unit tests of synapse_spark.py's exact top-k selection and label vector (numpy only, no Spark):
``python spark/test_synapse_spark.py`` (run by __test__/spark.spec.ts)."""

import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synapse_spark as job  # noqa: E402


def reference(sims, ids, k):
    """Per row: sort every finite entry by (similarity desc, id asc), keep k."""
    out = []
    for r in range(sims.shape[0]):
        entries = sorted((-float(s), int(i)) for s, i in zip(sims[r], ids[r]) if np.isfinite(s))
        out.append([(-s, i) for s, i in entries[:k]])
    return out


def as_lists(s, i):
    return [[(float(a), int(b)) for a, b in zip(sr, ir) if np.isfinite(a)] for sr, ir in zip(s, i)]


class TopK(unittest.TestCase):
    def test_matches_a_full_sort_with_many_ties(self):
        rng = np.random.default_rng(1)
        for m, k in [(50, 5), (7, 10), (30, 30), (64, 1)]:
            # Four distinct values: the k-th place is nearly always tied.
            sims = rng.integers(0, 4, size=(40, m)).astype(np.float32) / 4
            sims[rng.random((40, m)) < 0.2] = job.NEG_INF
            ids = np.stack([rng.permutation(1000)[:m] for _ in range(40)]).astype(np.int64)
            s, i = job.select_topk(sims, ids, k)
            self.assertEqual(s.shape, (40, k))
            self.assertEqual(as_lists(s, i), reference(sims, ids, k), (m, k))

    def test_merging_partials_equals_selecting_at_once(self):
        rng = np.random.default_rng(2)
        sims = rng.integers(0, 5, size=(25, 90)).astype(np.float32) / 5
        ids = np.tile(np.arange(90, dtype=np.int64), (25, 1))
        k = 6
        parts = [job.select_topk(sims[:, a : a + 30], ids[:, a : a + 30], k) for a in (0, 30, 60)]
        merged = job.merge_topk(job.merge_topk(parts[2], parts[0], k), parts[1], k)
        self.assertEqual(as_lists(*merged), reference(sims, ids, k))


class Labels(unittest.TestCase):
    def test_seeds_positives_and_negatives_are_clamped(self):
        y0, clamp = job.labels_vector({"positives": [1], "negatives": [2], "negative_label": 0}, 4, 2)
        self.assertEqual(y0.tolist(), [0, 1, 0, 0, 1, 1])
        self.assertEqual(clamp.tolist(), [False, True, True, False, True, True])
        with self.assertRaises(ValueError):
            job.labels_vector({"positives": [4]}, 4, 2)


if __name__ == "__main__":
    unittest.main()
