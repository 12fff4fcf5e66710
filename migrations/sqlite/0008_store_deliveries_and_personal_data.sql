-- The store API orders the store's changes by the store's own updated_at (Unix ms): an update
-- older than the stored row is not written. Until now updated_at held the time the row was
-- written here, which is later than the store's change and would wrongly hold off updates
-- that were merely delivered late; nothing is known of the store's times, so it starts at 0.
UPDATE customers SET updated_at = 0;
UPDATE products SET updated_at = 0;
UPDATE orders SET updated_at = 0;

-- Store API deliveries already applied, by the id the platform gives each delivery (the same
-- for its retries): a second copy is answered from here and changes nothing. Written in the
-- transaction of the delivery's own writes. Pruned after a few days.
CREATE TABLE store_deliveries (
    id          TEXT PRIMARY KEY,
    -- customers, products, orders or forget.
    route       TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    -- What the delivery was answered (JSON counts), to answer its copies the same.
    response    TEXT NOT NULL
);
CREATE INDEX store_deliveries_received ON store_deliveries (received_at);

-- Forgetting a customer finds their conversations and training examples; the retention task
-- finds conversations by their last change and idempotency records by age.
CREATE INDEX conversations_customer ON conversations (customer_id);
CREATE INDEX conversations_verified_order ON conversations (verified_order);
CREATE INDEX conversations_attached_order ON conversations (attached_order);
CREATE INDEX conversations_contact_email ON conversations (contact_email);
CREATE INDEX conversations_updated ON conversations (updated_at);
CREATE INDEX training_examples_conversation ON training_examples (conversation_id);
CREATE INDEX idempotency_records_created ON idempotency_records (created_at);
