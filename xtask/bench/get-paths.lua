-- wrk script of `cargo xtask bench` (xtask/src/bench/wrk.rs): GET each path of
-- WRK_PATHS (space-separated, e.g. `/api/v1/products/1 /api/v1/products?limit=20`) in
-- turn, round and round: a mix is the proportion of its paths in that list. Each
-- thread formats its requests once in init(), so the client's per-request work is a
-- table lookup. Bodies are not read (no response() callback): wrk only counts statuses.

local requests = {}
local next_request = 1

function init(args)
  for path in string.gmatch(os.getenv("WRK_PATHS") or "", "%S+") do
    requests[#requests + 1] = wrk.format("GET", path)
  end
  if #requests == 0 then
    error("WRK_PATHS names no path")
  end
end

function request()
  local current = requests[next_request]
  next_request = next_request % #requests + 1
  return current
end
