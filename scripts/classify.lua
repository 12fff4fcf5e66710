-- wrk script for the classify load scripts: POSTs a rotating set of shopper messages to
-- /api/v1/classify.
local messages = {
  "where is my order 1042?",
  "do you accept PayPal?",
  "the mug I ordered arrived broken",
  "I want to talk to a real person",
  "how long do I have to return a jacket?",
  "can I change the delivery address for my order",
  "I was charged twice for the same order",
  "hi there",
}
local bodies = {}
for i, m in ipairs(messages) do bodies[i] = '{"text":"' .. m .. '"}' end
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  return wrk.format(nil, "/api/v1/classify", nil, bodies[(counter % #bodies) + 1])
end
