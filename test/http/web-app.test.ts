import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { fetchMetrics } from '../support/metrics.js';

describe('the web app at /', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'easy-chat-web-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>easy-chat</title>');
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('all-in-one (api and gateway)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ overrides: { web: { dir } } });
    });
    afterAll(async () => {
      await t.close();
    });

    it('serves index.html at / and hashed assets with long caching', async () => {
      const index = await fetch(`${t.url}/`);
      expect(index.status).toBe(200);
      expect(index.headers.get('content-type')).toMatch(/^text\/html/);
      expect(index.headers.get('cache-control')).toBe('no-cache');
      expect(await index.text()).toContain('<title>easy-chat</title>');
      const asset = await fetch(`${t.url}/assets/index-abc123.js`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(/javascript/);
      expect(asset.headers.get('cache-control')).toContain('immutable');
    });

    it('leaves the API, gateway, docs and operations routes and their 404 envelope alone', async () => {
      for (const path of ['/v1/nope', '/v1/user/nope', '/nope', '/assets/missing.js', '/index']) {
        const res = await fetch(`${t.url}${path}`);
        expect(res.status, path).toBe(404);
        expect(await res.json(), path).toMatchObject({ code: 100005, data: null });
      }
      expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
      expect((await fetchMetrics(t.url)).status).toBe(200);
      expect((await fetch(`${t.url}/docs/json`)).status).toBe(200);
      const ws = await fetch(`${t.url}/ws`);
      expect(ws.status).not.toBe(200);
      const me = await t.client.get('/v1/user/user');
      expect(me.status).toBe(401);
    });
  });

  it('is not served by an api-only process, nor when disabled or not built', async () => {
    for (const overrides of [
      { roles: ['api' as const], web: { dir } },
      { web: { dir, enabled: false } },
      { web: { dir: join(dir, 'missing') } },
    ]) {
      const t = await startTestApp({ overrides });
      try {
        const res = await fetch(`${t.url}/`);
        expect(res.status, JSON.stringify(overrides)).toBe(404);
        expect(await res.json()).toMatchObject({ code: 100005 });
      } finally {
        await t.close();
      }
    }
  });
});
