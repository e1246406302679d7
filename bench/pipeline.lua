-- wrk script for bench/run: every write carries DEPTH requests (default 16), so the server
-- meets many requests per read. Usage: wrk ... -s bench/pipeline.lua URL -- [DEPTH]
-- wrk counts each response as a request, but records latency once per batch: the p99 it
-- prints is the time until the last of the DEPTH answers arrived.

init = function(args)
    local depth = tonumber(args[1]) or 16
    local requests = {}
    for i = 1, depth do
        requests[i] = wrk.format(nil, wrk.path)
    end
    batch = table.concat(requests)
end

request = function()
    return batch
end
