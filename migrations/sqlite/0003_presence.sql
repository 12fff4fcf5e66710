-- Agents online per server instance, so that several instances on one database agree on
-- who is online. Each instance refreshes its rows while it runs; rows not refreshed recently
-- belong to stopped or crashed instances and are ignored.

CREATE TABLE agent_presence (
    instance_id TEXT NOT NULL,
    agent_id    TEXT NOT NULL,
    seen_at     BIGINT NOT NULL,
    PRIMARY KEY (instance_id, agent_id)
);
CREATE INDEX agent_presence_seen ON agent_presence (seen_at);
