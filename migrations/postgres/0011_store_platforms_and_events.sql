-- Stores on Shopify or WooCommerce. A product variant remembers the platform it came from,
-- the platform's product id (a deleted product discontinues all its variants) and the id a
-- cart link names it by (Shopify's variant id; WooCommerce's product or variation id).
ALTER TABLE products ADD COLUMN platform TEXT;
ALTER TABLE products ADD COLUMN platform_product_id TEXT;
ALTER TABLE products ADD COLUMN platform_variant_id TEXT;
CREATE INDEX products_platform_product ON products (platform, platform_product_id);
-- An order's id on its platform, which fulfillment and refund deliveries name it by.
ALTER TABLE orders ADD COLUMN platform TEXT;
ALTER TABLE orders ADD COLUMN platform_id TEXT;
CREATE INDEX orders_platform_id ON orders (platform, platform_id);
-- A shipment's id on the platform (Shopify's fulfillment id), so an update replaces it.
ALTER TABLE shipments ADD COLUMN platform_id TEXT;

-- The cart links the bot gave for "order the same again": one per proposal, so a second yes
-- gives the same link. Nothing is ordered until the shopper checks out on the store.
CREATE TABLE cart_links (
    proposal_key    TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    source_order    TEXT NOT NULL,
    -- JSON: the links and the items in them.
    cart            TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX cart_links_conversation ON cart_links (conversation_id);

-- Events for the store's own systems, written in the transaction of the change they report
-- (one row per event and endpoint) and delivered from here by a background task, so a slow
-- or failing endpoint never holds up a chat. A failed delivery waits longer each time.
CREATE TABLE event_outbox (
    event_id        TEXT NOT NULL,
    endpoint        TEXT NOT NULL,
    kind            TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    -- When to try next (NULL once delivered or given up).
    next_attempt_at BIGINT,
    delivered_at    BIGINT,
    gave_up_at      BIGINT,
    PRIMARY KEY (event_id, endpoint)
);
CREATE INDEX event_outbox_due ON event_outbox (next_attempt_at);

-- Every delivery attempt with its outcome.
CREATE TABLE event_attempts (
    event_id     TEXT NOT NULL,
    endpoint     TEXT NOT NULL,
    attempt      BIGINT NOT NULL,
    attempted_at BIGINT NOT NULL,
    -- The HTTP status (NULL when no response came).
    status       BIGINT,
    error        TEXT,
    duration_ms  BIGINT NOT NULL,
    PRIMARY KEY (event_id, endpoint, attempt)
);
