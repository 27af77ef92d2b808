-- wrk script: GET a random seeded domain's config.json with the admin token.
-- PETER_BENCH_DOMAINS: how many domains were seeded (d0..dN-1.bench.example).
-- PETER_BENCH_TOKEN: the admin token.
local count = tonumber(os.getenv("PETER_BENCH_DOMAINS") or "100000")
local token = os.getenv("PETER_BENCH_TOKEN") or ""
local headers = { ["Authorization"] = "Bearer " .. token }

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(seed or os.time())
end

function request()
  local path = string.format(
    "/.well-known/peter_sslers/domain/d%d.bench.example/config.json",
    math.random(0, count - 1))
  return wrk.format("GET", path, headers)
end
