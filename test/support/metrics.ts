/** config/test.yaml's metrics.token: the public /metrics answers only with it. */
export const TEST_METRICS_TOKEN = 'test-metrics-token-5c1f0e9a7b3d2468ace0';

/** GET /metrics on an app's public port, with the test configuration's token. */
export function fetchMetrics(baseUrl: string): Promise<Response> {
  return fetch(`${baseUrl}/metrics`, {
    headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` },
  });
}
