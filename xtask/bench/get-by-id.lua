-- wrk script of `cargo xtask bench` (xtask/src/bench/wrk.rs): GET <WRK_PATH_PREFIX><id>,
-- cycling through WRK_IDS (comma-separated ids the plan created through the app's API
-- before the run). Each thread formats its requests once in init(), so the client's
-- per-request work is a table lookup, as light as pgbench's prepared statement.
-- Bodies are not read (no response() callback): wrk only counts statuses.

local prefix = os.getenv("WRK_PATH_PREFIX") or "/"
local requests = {}
local next_request = 1

function init(args)
  for id in string.gmatch(os.getenv("WRK_IDS") or "", "[^,]+") do
    requests[#requests + 1] = wrk.format("GET", prefix .. id)
  end
  if #requests == 0 then
    error("WRK_IDS names no id")
  end
end

function request()
  local current = requests[next_request]
  next_request = next_request % #requests + 1
  return current
end
