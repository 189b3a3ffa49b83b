-- The ceiling: GET /row/<random place id>: wrk -s row.lua URL -- MAX_PLACE_ID
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local max_id

setup = common.setup
done = common.done

function init(args)
  common.seed(args)
  max_id = tonumber(args[1])
end

function request()
  return wrk.format("GET", "/row/" .. math.random(1, max_id))
end
