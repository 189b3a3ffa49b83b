-- POST /mp/v1/cases (no photos) as a random resident, at a random scene, with a fresh Idempotency-Key:
-- wrk -s report.lua URL -- SCENES_FILE TOKENS_FILE CATEGORY_IDS(comma-separated)
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local scenes, tokens, categories
local n = 0
local problems = {"楼道堆放杂物，影响通行", "路灯不亮，夜间出行不便", "垃圾桶满溢，气味很大", "井盖松动，有安全隐患"}

setup = common.setup
done = common.done

function init(args)
  common.seed(args)
  scenes = common.lines(args[1])
  tokens = common.lines(args[2])
  categories = {}
  for id in string.gmatch(args[3], "%d+") do categories[#categories + 1] = id end
end

function request()
  n = n + 1
  local key = string.format("bench-%d-%d-%d-%d", thread_no or 0, n, math.random(1, 2147483647), os.time())
  local body = string.format('{"scene": "%s", "category_id": %s, "description": "%s"}',
    scenes[math.random(1, #scenes)], categories[math.random(1, #categories)], problems[math.random(1, #problems)])
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[math.random(1, #tokens)],
    ["Idempotency-Key"] = key,
  }
  return wrk.format("POST", "/mp/v1/cases", headers, body)
end
