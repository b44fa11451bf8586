-- wrk script of `cargo xtask bench` (xtask/src/bench/wrk.rs): POST <WRK_PATH>, cycling
-- through WRK_REQUESTS (one request a line: a bearer token, a tab, the JSON body; an
-- empty token sends no Authorization), each with an Idempotency-Key of its own
-- (WRK_RUN, the thread and a counter), so that every request is a new checkout or a
-- new order rather than a replay. The bodies are parsed once in init(); per request
-- the client only formats the headers. Bodies are not read (no response() callback).

local path = os.getenv("WRK_PATH") or "/"
local run = os.getenv("WRK_RUN") or "wrk"
local requests = {}
local next_request = 1
local sent = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  for line in string.gmatch(os.getenv("WRK_REQUESTS") or "", "[^\n]+") do
    local token, body = string.match(line, "^([^\t]*)\t(.+)$")
    if body == nil then
      error("a WRK_REQUESTS line is not `token<TAB>body`: " .. line)
    end
    requests[#requests + 1] = { token = token, body = body }
  end
  if #requests == 0 then
    error("WRK_REQUESTS names no request")
  end
end

function request()
  local current = requests[next_request]
  next_request = next_request % #requests + 1
  sent = sent + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = run .. "-" .. tostring(thread_number) .. "-" .. sent,
  }
  if current.token ~= "" then
    headers["Authorization"] = "Bearer " .. current.token
  end
  return wrk.format("POST", path, headers, current.body)
end
