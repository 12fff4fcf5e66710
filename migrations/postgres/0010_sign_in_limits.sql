-- Failed sign-ins, kept in the database so every instance sees the same ones: each slows its
-- (account, address) pair and its address down; many on one account lock it until an admin
-- unlocks it. Addresses are stored as keyed hashes, never as they are.
CREATE TABLE login_failures (
    account      TEXT NOT NULL,
    address_hash TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX login_failures_pair ON login_failures (account, address_hash, created_at);
CREATE INDEX login_failures_address ON login_failures (address_hash, created_at);
CREATE INDEX login_failures_created ON login_failures (created_at);

-- When the account was locked after a flood of failed sign-ins (NULL: not locked).
ALTER TABLE agents ADD COLUMN locked_at BIGINT;
