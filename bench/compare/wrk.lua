-- wrk.lua - the request scripts of compare.sh. One wrk thread per connection, so each
-- connection writes to its own account (read from ACCOUNTS, lines "did jwt"), as a client
-- of a PDS would. MODE=create posts createRecord with a body that differs each time;
-- MODE=get sends the URL given on the command line. done() prints one RESULT line.
local mode = os.getenv("MODE") or "get"
local next_id = 0
local accounts = {}

if mode == "create" then
  for line in io.lines(os.getenv("ACCOUNTS")) do
    local did, jwt = line:match("^(%S+)%s+(%S+)$")
    if did then accounts[#accounts + 1] = { did = did, jwt = jwt } end
  end
end

function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  if mode == "create" then
    local a = accounts[(next_id - 1) % #accounts + 1]
    thread:set("did", a.did)
    thread:set("jwt", a.jwt)
  end
end

local seq = 0
local headers

function init(args)
  if mode == "create" then
    headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. jwt }
  end
end

function request()
  if mode ~= "create" then return wrk.request() end
  seq = seq + 1
  local body = string.format('{"repo":"%s","collection":"app.bsky.feed.post","record":' ..
    '{"$type":"app.bsky.feed.post","text":"bench %d/%d: a post of ordinary length, about as ' ..
    'long as people write them","createdAt":"2026-11-24T10:00:00.000Z"}}', did, tid, seq)
  return wrk.format("POST", "/xrpc/com.atproto.repo.createRecord", headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  local ok = summary.requests - e.status
  io.write(string.format("RESULT ok=%d secs=%.3f rps=%.1f p50_ms=%.2f p99_ms=%.2f " ..
    "non2xx=%d errors=%d\n", ok, summary.duration / 1e6, ok / (summary.duration / 1e6),
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3, e.status,
    e.connect + e.read + e.write + e.timeout))
end
