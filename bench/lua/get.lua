-- GET a fixed path, optionally with a bearer token: wrk -s get.lua URL -- PATH [TOKEN]
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local path, headers

setup = common.setup
done = common.done

function init(args)
  path = args[1]
  headers = {}
  if args[2] and args[2] ~= "" then headers["Authorization"] = "Bearer " .. args[2] end
end

function request()
  return wrk.format("GET", path, headers)
end
