-- wrk script of `chaoslab-bench --histogram`: after a run, the latency at
-- every 0.1 % step of the distribution ("pct <percent> <microseconds>"),
-- from which the bench counts the share of requests in each latency bucket.
done = function(summary, latency, requests)
  for step = 1, 1000 do
    io.write(string.format("pct %.1f %d\n", step / 10, latency:percentile(step / 10)))
  end
end
