-- wrk script: one Lambda API Invoke (RequestResponse), signed once with AWS Signature
-- Version 4 and replayed on every request (a signature holds for 15 minutes). The signed
-- headers come from the file $LAMBDA_INVOKE_HEADERS, one "Name: value" a line (Host
-- among them: it must be what wrk sends); the body is $LAMBDA_INVOKE_BODY ("{}" if unset),
-- the one that was signed. Every answer must be a 200 with the function's output: done()
-- prints "Non-200 answers: N" when some were not (a refused signature, or a function
-- error, which Lambda answers 200 with X-Amz-Function-Error), and bench/run.sh fails on
-- that line.
wrk.method = "POST"
wrk.body = os.getenv("LAMBDA_INVOKE_BODY") or "{}"
local path = os.getenv("LAMBDA_INVOKE_HEADERS")
assert(path, "LAMBDA_INVOKE_HEADERS is not set")
local file = assert(io.open(path))
for line in file:lines() do
    local name, value = line:match("^([^:]+): (.*)$")
    if name then wrk.headers[name] = value end
end
file:close()

local threads = {}
function setup(thread)
    table.insert(threads, thread)
end

failed = 0

function response(status, headers, body)
    if status ~= 200 or headers["X-Amz-Function-Error"] then failed = failed + 1 end
end

function done(summary, latency, requests)
    local total = 0
    for _, thread in ipairs(threads) do total = total + thread:get("failed") end
    if total > 0 then io.write(string.format("Non-200 answers: %d\n", total)) end
end
