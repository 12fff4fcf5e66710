-- The learning loop: one training example per shopper message (labelling again changes it),
-- examples from "the bot could have answered this" at resolution, model versions with their
-- artefacts, background jobs, and what a candidate in shadow would have said.

DELETE FROM training_examples WHERE EXISTS (
    SELECT 1 FROM training_examples newer
    WHERE newer.message_id = training_examples.message_id
      AND (newer.created_at > training_examples.created_at
           OR (newer.created_at = training_examples.created_at AND newer.id > training_examples.id)));
ALTER TABLE training_examples ADD COLUMN source TEXT NOT NULL DEFAULT 'label' CHECK (source IN ('label', 'resolution'));
ALTER TABLE training_examples ADD COLUMN updated_at BIGINT;
ALTER TABLE training_examples ADD COLUMN exported_at BIGINT;
CREATE UNIQUE INDEX training_examples_message ON training_examples (message_id);

CREATE TABLE model_versions (
    version        TEXT PRIMARY KEY,
    -- 1 for the first model of a database (the one shipped in models/), then 2, 3...
    number         BIGINT NOT NULL UNIQUE,
    status         TEXT NOT NULL CHECK (status IN ('live', 'candidate', 'rejected', 'retired')),
    shadow         BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    examples       BIGINT NOT NULL,
    metrics        TEXT NOT NULL,
    gate           TEXT,
    head_json      TEXT NOT NULL,
    head_onnx      BYTEA NOT NULL,
    neighbours     BYTEA NOT NULL,
    encoder_sha256 TEXT NOT NULL,
    report_html    TEXT,
    promoted_at    BIGINT,
    -- The live version this one replaced when it was promoted: where a roll-back goes.
    previous_live  TEXT
);
CREATE UNIQUE INDEX model_versions_one_live ON model_versions (status) WHERE status = 'live';
CREATE UNIQUE INDEX model_versions_one_shadow ON model_versions (shadow) WHERE shadow = 1;

CREATE TABLE jobs (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    stage         TEXT NOT NULL,
    progress      DOUBLE PRECISION NOT NULL DEFAULT 0,
    model_version TEXT,
    error         TEXT,
    -- What the requester should know about the data, as a JSON list of sentences.
    notes         TEXT,
    requested_by  TEXT NOT NULL,
    instance_id   TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    finished_at   BIGINT
);
-- One retrain at a time per database.
CREATE UNIQUE INDEX jobs_one_active ON jobs (kind) WHERE state IN ('queued', 'running');

CREATE TABLE shadow_predictions (
    message_id     TEXT PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    version        TEXT NOT NULL,
    live_version   TEXT NOT NULL,
    intent         TEXT NOT NULL,
    confidence     DOUBLE PRECISION NOT NULL,
    decision       TEXT NOT NULL,
    live_intent    TEXT NOT NULL,
    live_decision  TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX shadow_predictions_version ON shadow_predictions (version, created_at);
