import { describe, expect, it } from 'vitest';
import { STORAGES } from '../support/backends.js';
import { createUser } from '../support/factories.js';
import { suiteApp } from '../support/suite-app.js';
import { startTestApp } from '../support/test-app.js';
import { fetchMetrics } from '../support/metrics.js';

describe('HTTP edges', () => {
  const { t } = suiteApp();

  it('answers unknown routes with 404 and known paths with a wrong method with 405', async () => {
    const res = await t.client.get('/v1/nothing/here');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      code: 100005,
      msg: 'route GET /v1/nothing/here not found',
      data: null,
    });
    const wrongMethod = await t.client.request('DELETE', '/v1/user/login');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expect(wrongMethod.body).toEqual({
      code: 100014,
      msg: '/v1/user/login answers POST, not DELETE',
      data: null,
    });
  });

  it('gives every response a request id and keeps a caller-supplied one', async () => {
    const a = await t.client.get('/healthz');
    const b = await t.client.get('/healthz');
    expect(a.headers.get('x-request-id')).toMatch(/^[0-9A-Z]{26}$/);
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
    const mine = await t.client.get('/healthz', { headers: { 'x-request-id': 'trace-abc-123' } });
    expect(mine.headers.get('x-request-id')).toBe('trace-abc-123');
  });

  it('serves /healthz and /readyz', async () => {
    const health = await t.client.get('/healthz');
    expect(health.body).toMatchObject({
      code: 200,
      data: { status: 'ok', roles: ['api', 'gateway', 'worker'] },
    });
    const ready = await t.client.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.data.status).toBe('ready');
  });

  it('serves Prometheus metrics including request timings', async () => {
    await t.client.get('/healthz');
    const res = await fetchMetrics(t.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('easychat_http_request_duration_seconds_bucket');
    expect(text).toMatch(/route="\/healthz"/);
    expect(text).toContain('easychat_process_cpu_seconds_total');
  });

  it('serves the OpenAPI document and its UI at /docs', async () => {
    const ui = await fetch(`${t.url}/docs`, { redirect: 'follow' });
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
    const spec = (await (await fetch(`${t.url}/docs/json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown; security?: unknown }>>;
    };
    expect(spec.openapi).toBe('3.1.0');
    for (const path of [
      '/v1/user/register',
      '/v1/user/login',
      '/v1/user/user',
      '/v1/user/users',
      '/v1/user/logout',
    ]) {
      expect(spec.paths, path).toHaveProperty([path]);
    }
    expect(spec.paths['/v1/user/register']!.post!.requestBody).toBeDefined();
    expect(spec.paths['/v1/user/user']!.get!.security).toEqual([{ bearer: [] }]);
  });
});

describe.each(STORAGES)('failures on %s', (storage) => {
  it('reports storage loss as not ready and unknown failures as 500 / 100001 without internals', async () => {
    const t = await startTestApp({ storage });
    try {
      const user = await createUser(t.client);
      await t.app.storage.close();
      const ready = await t.client.get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual({ code: 100004, msg: 'storage is not reachable', data: null });
      const res = await user.client.get('/v1/user/user');
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ code: 100001, msg: 'internal server error', data: null });
    } finally {
      await t.close();
    }
  });
});
