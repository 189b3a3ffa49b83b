-- The write ceiling: POST /write with a small JSON body: wrk -s write.lua URL
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local n = 0

setup = common.setup
done = common.done

function init(args)
  common.seed(args)
end

function request()
  n = n + 1
  local body = string.format('{"n": %d, "description": "路灯不亮，夜间出行不便"}', n)
  return wrk.format("POST", "/write", {["Content-Type"] = "application/json"}, body)
end
