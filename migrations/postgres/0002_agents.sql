-- Agent accounts and agent-labelled training examples (pending review).

CREATE TABLE agents (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    is_admin      BIGINT NOT NULL DEFAULT 0,
    disabled      BIGINT NOT NULL DEFAULT 0,
    -- Sessions started before this moment are no longer valid (logout everywhere, disable).
    sessions_valid_after BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);

CREATE TABLE training_examples (
    id              TEXT PRIMARY KEY,
    text            TEXT NOT NULL,
    intent          TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    message_id      TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    agent_id        TEXT NOT NULL REFERENCES agents (id),
    reviewed_by     TEXT,
    created_at      BIGINT NOT NULL,
    reviewed_at     BIGINT
);
CREATE INDEX training_examples_status ON training_examples (status, created_at);
