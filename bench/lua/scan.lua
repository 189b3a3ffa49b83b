-- GET /mp/v1/scan/<random scene>: wrk -s scan.lua URL -- SCENES_FILE
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local scenes

setup = common.setup
done = common.done

function init(args)
  common.seed(args)
  scenes = common.lines(args[1])
end

function request()
  return wrk.format("GET", "/mp/v1/scan/" .. scenes[math.random(1, #scenes)])
end
