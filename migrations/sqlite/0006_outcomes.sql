-- Business outcomes: every conversation ends with one outcome (resolved by the bot, confirmed
-- or assumed; resolved by an agent; abandoned), hand-offs are kept one row per hand-off with
-- their first reason and response times, and shopper messages carry their top intent and
-- confidence in columns so the time-window figures are read from indexes.
-- History from before this migration is approximated: resolved conversations count as
-- resolved by an agent at their last change, and hand-offs still open get a row.

ALTER TABLE conversations ADD COLUMN outcome TEXT
    CHECK (outcome IN ('bot_confirmed', 'bot_assumed', 'agent_resolved', 'abandoned'));
ALTER TABLE conversations ADD COLUMN outcome_at BIGINT;
-- The bot's last answer that may have resolved the conversation (cleared by a new question).
ALTER TABLE conversations ADD COLUMN answered_at BIGINT;
-- The shopper wrote again within 24 hours of a resolution by the bot.
ALTER TABLE conversations ADD COLUMN recontacted BIGINT NOT NULL DEFAULT 0;
-- Whether the shopper got an answer (from the bot or an agent): only then may they rate.
ALTER TABLE conversations ADD COLUMN got_answer BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN rated_at BIGINT;
ALTER TABLE conversations ADD COLUMN last_message_at BIGINT;
-- The first shopper message: when (the conversation's time in every figure), its top intent
-- and the model version that classified it.
ALTER TABLE conversations ADD COLUMN first_shopper_at BIGINT;
ALTER TABLE conversations ADD COLUMN first_intent TEXT;
ALTER TABLE conversations ADD COLUMN first_model_version TEXT;

ALTER TABLE messages ADD COLUMN top_intent TEXT;
ALTER TABLE messages ADD COLUMN top_confidence REAL;

UPDATE messages SET top_intent = json_extract(top_intents, '$[0].intent'),
                    top_confidence = json_extract(top_intents, '$[0].confidence')
WHERE top_intents IS NOT NULL AND top_intents <> '' AND top_intents <> '[]';

UPDATE conversations SET
    last_message_at = (SELECT MAX(m.created_at) FROM messages m WHERE m.conversation_id = conversations.id),
    first_shopper_at = (SELECT MIN(m.created_at) FROM messages m
                         WHERE m.conversation_id = conversations.id AND m.sender = 'shopper'),
    got_answer = CASE WHEN EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = conversations.id
                                     AND (m.sender = 'agent' OR (m.sender = 'shopper' AND m.decision = 'answer')))
                 THEN 1 ELSE 0 END;
UPDATE conversations SET
    first_intent = (SELECT m.top_intent FROM messages m WHERE m.conversation_id = conversations.id
                     AND m.sender = 'shopper' ORDER BY m.seq LIMIT 1),
    first_model_version = (SELECT m.model_version FROM messages m WHERE m.conversation_id = conversations.id
                            AND m.sender = 'shopper' ORDER BY m.seq LIMIT 1)
WHERE first_shopper_at IS NOT NULL;
UPDATE conversations SET outcome = 'agent_resolved', outcome_at = updated_at WHERE state = 'resolved';
-- Conversations with the bot from before: answered by the model with confidence, resolved by
-- the bot (assumed, at their last message); otherwise abandoned. The sweeper leaves them be.
UPDATE conversations SET
    outcome = CASE WHEN EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = conversations.id
                                  AND m.sender = 'shopper' AND m.decision = 'answer' AND m.reason = 'confident')
              THEN 'bot_assumed' ELSE 'abandoned' END,
    outcome_at = last_message_at
WHERE state = 'bot' AND first_shopper_at IS NOT NULL;

CREATE TABLE handoffs (
    id                   TEXT PRIMARY KEY,
    conversation_id      TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- The reason it was first queued for; releasing and reassigning keep it.
    reason               TEXT NOT NULL,
    intent               TEXT,
    queued_at            BIGINT NOT NULL,
    first_claimed_at     BIGINT,
    first_agent_reply_at BIGINT,
    ended_at             BIGINT,
    ended_by             TEXT CHECK (ended_by IN ('resolved', 'returned')),
    -- The agent marked "the bot could have answered this", with this intent.
    could_have_answered  TEXT
);
CREATE UNIQUE INDEX handoffs_one_open ON handoffs (conversation_id) WHERE ended_at IS NULL;
CREATE INDEX handoffs_conversation ON handoffs (conversation_id);
CREATE INDEX handoffs_queued ON handoffs (queued_at);

INSERT INTO handoffs (id, conversation_id, reason, intent, queued_at)
SELECT lower(hex(randomblob(16))), id, handoff_reason, handoff_intent, COALESCE(queued_at, updated_at)
FROM conversations WHERE state IN ('queued', 'assigned') AND handoff_reason IS NOT NULL;

CREATE INDEX messages_created_at ON messages (created_at);
-- Covers the per-message figures (volume, fallbacks, confidence, drift) of a time window, in
-- the order they are counted (day, intent, decision, reason, confidence bin, model version), so
-- SQLite counts them from the index without sorting.
CREATE INDEX messages_shopper_counts ON messages (created_at / 86400000, top_intent, decision, reason,
    CAST(COALESCE(top_confidence, 0) * 10 AS INTEGER), model_version, created_at, top_confidence)
    WHERE sender = 'shopper';
CREATE INDEX conversations_first_shopper ON conversations (first_shopper_at);
-- Conversations the outcome sweeper looks at: with the bot and not settled.
CREATE INDEX conversations_unsettled ON conversations (last_message_at) WHERE state = 'bot' AND outcome IS NULL;
