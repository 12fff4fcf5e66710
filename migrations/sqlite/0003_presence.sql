-- Agents online per server instance, so that several instances on one database agree on
-- whether anybody is online. Each instance refreshes its row while it runs; rows not
-- refreshed recently belong to stopped or crashed instances and are ignored.

CREATE TABLE agent_presence (
    instance_id   TEXT PRIMARY KEY,
    online_agents BIGINT NOT NULL,
    seen_at       BIGINT NOT NULL
);
