import { afterEach, describe, expect, it } from 'vitest';
import { fetchMetrics, TEST_METRICS_TOKEN } from '../support/metrics.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('who may read /metrics', () => {
  const apps: TestApp[] = [];
  afterEach(async () => {
    for (const t of apps.splice(0)) await t.close();
  });
  const start = async (metrics: object) => {
    const t = await startTestApp({ overrides: { metrics } });
    apps.push(t);
    return t;
  };

  it('is not served on the public port when no token is set (the default)', async () => {
    const t = await start({ token: '' });
    const res = await fetch(`${t.url}/metrics`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 100005, data: null });
    expect((await fetchMetrics(t.url)).status).toBe(404);
    const doc = (await (await fetch(`${t.url}/docs/json`)).json()) as { paths: object };
    expect(Object.keys(doc.paths)).not.toContain('/metrics');
  });

  it('answers the public port only with the bearer token', async () => {
    const t = await start({ token: TEST_METRICS_TOKEN });
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer wrong-token' },
      { authorization: 'x' },
    ];
    for (const headers of attempts) {
      const res = await fetch(`${t.url}/metrics`, { headers });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({
        code: 100003,
        msg: 'metrics token missing or invalid',
        data: null,
      });
    }
    const res = await fetchMetrics(t.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('easychat_http_request_duration_seconds');
  });

  it('serves a separate listener without a token, and nothing else on it', async () => {
    const t = await start({ token: '', listener: { enabled: true, host: '127.0.0.1', port: 0 } });
    const { metricsUrl } = t;
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(metricsUrl).not.toBe(t.url);
    const res = await fetch(`${metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(await res.text()).toContain('easychat_');
    expect((await fetch(`${metricsUrl}/v1/user/user`)).status).toBe(404);
    expect((await fetch(`${t.url}/metrics`)).status).toBe(404);
  });
});
