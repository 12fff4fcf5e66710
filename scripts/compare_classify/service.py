"""The plain Python baseline for scripts/compare_classify.sh: FastAPI + onnxruntime + a
scikit-learn head over the same int8 encoder and the same intents as Switchboard.

    python service.py train HEAD      # embed intents/*.yaml, fit the head, save it to HEAD
    HEAD=... uvicorn service:app --http service:NoDelayH11Protocol --workers 2 ...

Written the way a competent Python developer would write it, not tuned: one InferenceSession
per uvicorn worker with intra_op_num_threads=1, so 2 workers x 1 thread fill a 2-core machine;
a sync endpoint, which FastAPI runs in its thread pool.
"""

import asyncio
import os
import socket
import sys
from pathlib import Path

import joblib
import numpy as np
import onnxruntime as ort
import yaml
from fastapi import FastAPI
from pydantic import BaseModel, Field
from sklearn.linear_model import LogisticRegression
from tokenizers import Tokenizer
from uvicorn.protocols.http.h11_impl import H11Protocol

ROOT = Path(__file__).resolve().parents[2]
MODELS, INTENTS = ROOT / "models", ROOT / "intents"
OUTPUTS = ["sentence_embedding", "penultimate_embedding"]
TOP_N = 5  # Switchboard's /api/v1/classify returns its top five too


class Encoder:
    """Tokenizer + ONNX encoder: one message in, its 768-float feature vector out."""

    def __init__(self, threads: int) -> None:
        self.tokenizer = Tokenizer.from_file(str(MODELS / "tokenizer.json"))
        self.tokenizer.no_padding()  # the file pads to 128; a single message needs no padding
        self.tokenizer.enable_truncation(max_length=128)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(MODELS / "encoder.onnx"), options,
                                            providers=["CPUExecutionProvider"])

    def embed(self, text: str) -> np.ndarray:
        encoding = self.tokenizer.encode(text)
        inputs = {"input_ids": np.array([encoding.ids], np.int64),
                  "attention_mask": np.array([encoding.attention_mask], np.int64)}
        return np.concatenate(self.session.run(OUTPUTS, inputs), axis=1)[0]


def load_examples() -> tuple[list[str], list[str]]:
    """(texts, intent names) from intents/*.yaml; files starting with `_` hold rules, not intents."""
    texts, labels = [], []
    for path in sorted(INTENTS.glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        intent = yaml.safe_load(path.read_text())
        texts += intent["examples"]
        labels += [intent["name"]] * len(intent["examples"])
    return texts, labels


def train(head_path: Path) -> None:
    texts, labels = load_examples()
    encoder = Encoder(threads=os.cpu_count() or 1)
    features = np.stack([encoder.embed(t) for t in texts])
    head = LogisticRegression(C=10.0, max_iter=2000).fit(features, labels)
    joblib.dump(head, head_path)
    print(f"trained on {len(texts)} examples of {len(head.classes_)} intents -> {head_path}")


class ClassifyRequest(BaseModel):
    text: str = Field(min_length=1, max_length=2000)


class IntentScore(BaseModel):
    intent: str
    confidence: float


app = FastAPI()
if __name__ != "__main__":  # loaded by uvicorn: each worker gets its own session and head
    encoder = Encoder(threads=1)
    head: LogisticRegression = joblib.load(os.environ["HEAD"])


@app.post("/api/v1/classify")
def classify(request: ClassifyRequest) -> list[IntentScore]:
    probabilities = head.predict_proba(encoder.embed(request.text)[None, :])[0]
    ranked = np.argsort(probabilities)[::-1][:TOP_N]
    return [IntentScore(intent=head.classes_[i], confidence=float(probabilities[i])) for i in ranked]


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with TCP_NODELAY on every connection (`--http service:NoDelayH11Protocol`).

    With --workers N, uvicorn binds the listener itself with proto 0, so asyncio leaves Nagle on
    for the connections it accepts and each keep-alive response waits about 40 ms for the
    client's delayed ACK (Kludex/uvicorn#3149, open in 0.54). Without this the comparison would
    measure that bug, not Python.
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


@app.get("/healthz")
def healthz() -> str:
    return "ok"


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "train":
        sys.exit("usage: service.py train HEAD_PATH")
    train(Path(sys.argv[2]))
