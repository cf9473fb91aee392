-- wrk: GET /fn/hello-1 ... /fn/hello-N in turn (N from $FUNCTIONS, default 6), so that a
-- load balancer hashing on the function's name spreads the calls over its nodes.
local functions = tonumber(os.getenv("FUNCTIONS") or "6")
local next_function = 0

request = function()
    next_function = next_function % functions + 1
    return wrk.format("GET", "/fn/hello-" .. next_function)
end
