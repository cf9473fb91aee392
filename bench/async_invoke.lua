-- wrk script: asynchronous invocations (X-Sofaas-Invocation-Type: Event) of the URL's
-- function, with the admin token of $SOFAAS_TOKEN. Every answer must be a 202: done()
-- prints "Non-202 answers: N" when some were not, and bench/run.sh fails on that line.
--
--   EVENT_PAYLOAD=TEXT    the events' payload ("bench" if unset)
--   EVENT_COUNT=N         each thread stops after N 202s; the first to stop creates the
--   EVENT_COUNT_DONE=FILE file FILE, so that the caller can end wrk (whose main thread
--                         sleeps for the whole -d) with SIGINT
wrk.method = "POST"
wrk.body = os.getenv("EVENT_PAYLOAD") or "bench"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("SOFAAS_TOKEN") or "")
wrk.headers["X-Sofaas-Invocation-Type"] = "Event"

local threads = {}
function setup(thread)
    table.insert(threads, thread)
end

local limit = tonumber(os.getenv("EVENT_COUNT") or "")
local marker = os.getenv("EVENT_COUNT_DONE")
queued, refused = 0, 0

function response(status, headers, body)
    if status ~= 202 then
        refused = refused + 1
        return
    end
    queued = queued + 1
    if limit and queued == limit then
        if marker then io.open(marker, "w"):close() end
        wrk.thread:stop()
    end
end

function done(summary, latency, requests)
    local total_refused, total_queued = 0, 0
    for _, thread in ipairs(threads) do
        total_refused = total_refused + thread:get("refused")
        total_queued = total_queued + thread:get("queued")
    end
    io.write(string.format("202 answers: %d\n", total_queued))
    if total_refused > 0 then io.write(string.format("Non-202 answers: %d\n", total_refused)) end
end
