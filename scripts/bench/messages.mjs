// Message posting throughput and latency with autocannon (pinned in the root package.json).
import autocannon from 'autocannon';

/** One autocannon run; resolves with req/s, latency percentiles and the failure counts. */
export async function postLoad({ url, headers = {}, connections, durationSeconds, text }) {
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    duration: durationSeconds,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ text }),
  });
  return {
    requestsPerSecond: result.requests.average,
    total: result.requests.total,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}
