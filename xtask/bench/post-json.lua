-- wrk script of `cargo xtask bench` (xtask/src/bench/wrk.rs): POST <WRK_PATH> with the
-- JSON body WRK_BODY, the same request every time. Each thread formats it once in
-- init(), so the client's per-request work is nothing but sending it (the body needs
-- no per-request id where the app generates one, as kafka-streaming's events API does).
-- Bodies are not read (no response() callback): wrk only counts statuses.

local path = os.getenv("WRK_PATH") or "/"
local body = os.getenv("WRK_BODY")
local formatted

function init(args)
  if body == nil or body == "" then
    error("WRK_BODY is empty")
  end
  formatted = wrk.format("POST", path, { ["Content-Type"] = "application/json" }, body)
end

function request()
  return formatted
end
