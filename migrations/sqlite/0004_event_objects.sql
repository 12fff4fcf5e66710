-- Conversation events become JSON objects (they were strings such as `state:queued:sensitive`
-- and `state:assigned:Sam`), and a conversation an agent released gets back the reason it was
-- queued for (a release used to overwrite it with `released`). Who released, returned or
-- resolved was never recorded, so those old events name nobody.

UPDATE conversations SET handoff_reason = COALESCE(
    (SELECT substr(m.body, 14) FROM messages m
      WHERE m.conversation_id = conversations.id AND m.sender = 'event'
        AND m.body LIKE 'state:queued:%' AND m.body <> 'state:queued:released'
      ORDER BY m.seq DESC LIMIT 1),
    'customer_requested')
WHERE handoff_reason = 'released';

UPDATE messages SET body = json_object('type', 'state', 'state', 'queued', 'reason', COALESCE(
        (SELECT substr(e.body, 14) FROM messages e
          WHERE e.conversation_id = messages.conversation_id AND e.seq < messages.seq AND e.sender = 'event'
            AND e.body LIKE 'state:queued:%' AND e.body <> 'state:queued:released'
          ORDER BY e.seq DESC LIMIT 1),
        'customer_requested'),
    'released_by', json_object('id', '', 'name', ''))
WHERE sender = 'event' AND body = 'state:queued:released';

UPDATE messages SET body = json_object('type', 'state', 'state', 'queued', 'reason', substr(body, 14))
WHERE sender = 'event' AND body LIKE 'state:queued:%';

UPDATE messages SET body = json_object('type', 'state', 'state', 'assigned', 'agent', json_object(
        'id', COALESCE((SELECT a.id FROM agents a WHERE a.name = substr(messages.body, 16) LIMIT 1), ''),
        'name', substr(body, 16)))
WHERE sender = 'event' AND body LIKE 'state:assigned:%';

UPDATE messages SET body = json_object('type', 'state', 'state', 'bot', 'returned_by', json_object('id', '', 'name', ''))
WHERE sender = 'event' AND body = 'state:bot';

UPDATE messages SET body = json_object('type', 'state', 'state', 'resolved', 'resolved_by', json_object('id', '', 'name', ''))
WHERE sender = 'event' AND body = 'state:resolved';
