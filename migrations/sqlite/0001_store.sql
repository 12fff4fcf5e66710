-- Store data, conversations, messages and their triage, verification attempts, idempotency
-- records and the audit log. Times are Unix milliseconds; money is in minor units (cents).

CREATE TABLE customers (
    id          TEXT PRIMARY KEY,
    email       TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX customers_email ON customers (email);

CREATE TABLE products (
    sku          TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    price_cents  BIGINT NOT NULL CHECK (price_cents >= 0),
    currency     TEXT NOT NULL,
    availability TEXT NOT NULL CHECK (availability IN ('in_stock', 'out_of_stock', 'discontinued')),
    updated_at   BIGINT NOT NULL
);

CREATE TABLE orders (
    number              TEXT PRIMARY KEY,
    customer_id         TEXT REFERENCES customers (id),
    email               TEXT NOT NULL,
    status              TEXT NOT NULL,
    placed_at           BIGINT NOT NULL,
    total_cents         BIGINT NOT NULL,
    currency            TEXT NOT NULL,
    shipping_address    TEXT NOT NULL DEFAULT '',
    estimated_delivery  BIGINT,
    delivered_at        BIGINT,
    source_order_number TEXT REFERENCES orders (number),
    -- Set on orders created by a reorder confirmation: makes the creation idempotent.
    reorder_key         TEXT UNIQUE,
    checkout_url        TEXT,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX orders_customer ON orders (customer_id, placed_at);
CREATE INDEX orders_email ON orders (email);

CREATE TABLE order_items (
    order_number     TEXT NOT NULL REFERENCES orders (number) ON DELETE CASCADE,
    line             BIGINT NOT NULL,
    sku              TEXT NOT NULL,
    name             TEXT NOT NULL,
    quantity         BIGINT NOT NULL CHECK (quantity > 0),
    unit_price_cents BIGINT NOT NULL,
    PRIMARY KEY (order_number, line)
);

CREATE TABLE shipments (
    order_number       TEXT NOT NULL REFERENCES orders (number) ON DELETE CASCADE,
    line               BIGINT NOT NULL,
    carrier            TEXT NOT NULL,
    tracking_number    TEXT NOT NULL,
    tracking_url       TEXT NOT NULL,
    status             TEXT NOT NULL,
    shipped_at         BIGINT,
    estimated_delivery BIGINT,
    delivered_at       BIGINT,
    PRIMARY KEY (order_number, line)
);

CREATE TABLE refunds (
    order_number TEXT NOT NULL REFERENCES orders (number) ON DELETE CASCADE,
    line         BIGINT NOT NULL,
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    status       TEXT NOT NULL CHECK (status IN ('requested', 'processing', 'completed', 'rejected')),
    reason       TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    completed_at BIGINT,
    PRIMARY KEY (order_number, line)
);

CREATE TABLE conversations (
    id                   TEXT PRIMARY KEY,
    token_hash           TEXT NOT NULL,
    state                TEXT NOT NULL CHECK (state IN ('bot', 'queued', 'assigned', 'resolved')),
    customer_id          TEXT REFERENCES customers (id),
    verified_via         TEXT,
    verified_order       TEXT,
    contact_email        TEXT,
    pending              TEXT,
    clarified_last       BIGINT NOT NULL DEFAULT 0,
    out_of_scope_last    BIGINT NOT NULL DEFAULT 0,
    handoff_reason       TEXT,
    handoff_priority     BIGINT,
    handoff_intent       TEXT,
    attached_order       TEXT,
    queued_at            BIGINT,
    assigned_agent       TEXT,
    rating               BIGINT,
    rating_comment       TEXT,
    last_seq             BIGINT NOT NULL DEFAULT 0,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX conversations_state ON conversations (state, handoff_priority, queued_at);

CREATE TABLE messages (
    id                TEXT PRIMARY KEY,
    conversation_id   TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq               BIGINT NOT NULL,
    sender            TEXT NOT NULL CHECK (sender IN ('shopper', 'bot', 'agent', 'note', 'event')),
    body              TEXT NOT NULL,
    quick_replies     TEXT,
    agent_id          TEXT,
    client_message_id TEXT,
    top_intents       TEXT,
    decision          TEXT,
    reason            TEXT,
    model_version     TEXT,
    created_at        BIGINT NOT NULL,
    UNIQUE (conversation_id, seq)
);

CREATE TABLE idempotency_records (
    conversation_id   TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    client_message_id TEXT NOT NULL,
    request_hash      TEXT NOT NULL,
    response          TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, client_message_id)
);

CREATE TABLE verification_attempts (
    conversation_id TEXT NOT NULL,
    ip_hash         TEXT NOT NULL,
    order_hash      TEXT NOT NULL,
    success         BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX verification_by_conversation ON verification_attempts (conversation_id, created_at);
CREATE INDEX verification_by_ip ON verification_attempts (ip_hash, created_at);
CREATE INDEX verification_by_order ON verification_attempts (order_hash, created_at);

CREATE TABLE audit_log (
    id              TEXT PRIMARY KEY,
    at              BIGINT NOT NULL,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    conversation_id TEXT,
    detail          TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_by_conversation ON audit_log (conversation_id, at);

-- The audit log is append-only.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
