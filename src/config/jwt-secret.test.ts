import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { STORAGES } from '../../test/support/backends.js';
import { createUser } from '../../test/support/factories.js';
import { HttpClient } from '../../test/support/http-client.js';
import { testConfig } from '../../test/support/test-app.js';
import { createApp } from '../app/create-app.js';
import { resolveJwtSecret, SECRET_FILE } from './jwt-secret.js';

/** The secret config/default.yaml used to ship: anyone could sign tokens with it. */
const OLD_DEFAULT = 'easy-chat-development-secret-change-me';

describe('resolveJwtSecret', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const newDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'easy-chat-secret-'));
    dirs.push(dir);
    return join(dir, 'data');
  };

  it('creates a random secret with mode 0600 on first start and reuses it after', () => {
    const dataDir = newDir();
    const first = resolveJwtSecret('', dataDir);
    const path = join(dataDir, SECRET_FILE);
    expect(first).toMatchObject({ source: 'file', created: path });
    expect(first.secret.length).toBeGreaterThanOrEqual(43);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = resolveJwtSecret('', dataDir);
    expect(again).toEqual({ secret: first.secret, source: 'file', created: undefined });
    expect(resolveJwtSecret('', newDir()).secret).not.toBe(first.secret);
  });

  it('uses a configured secret and writes nothing', () => {
    const dataDir = newDir();
    expect(resolveJwtSecret('configured', dataDir)).toEqual({
      secret: 'configured',
      source: 'config',
    });
    expect(() => statSync(join(dataDir, SECRET_FILE))).toThrow();
  });

  it('refuses a stored secret others can read', () => {
    const dataDir = newDir();
    resolveJwtSecret('', dataDir);
    chmodSync(join(dataDir, SECRET_FILE), 0o644);
    expect(() => resolveJwtSecret('', dataDir)).toThrow(/chmod 600/);
  });
});

describe.each(STORAGES)('the generated JWT secret on %s', (storage) => {
  it('survives a restart, and a token forged with the old default secret is refused', async () => {
    const { config, cleanup } = testConfig({ storage });
    expect(config.auth.jwtSecret).toBe('');
    try {
      const first = await createApp(config);
      const { url } = await first.start();
      const user = await createUser(new HttpClient(url));
      const forged = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('easy-chat')
        .setSubject(user.id)
        .setJti('forged')
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(OLD_DEFAULT));
      const refused = await new HttpClient(url, forged).get('/v1/user/user');
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ code: 100003, msg: 'token invalid' });
      await first.stop();

      const path = join(config.dataDir, SECRET_FILE);
      const stored = readFileSync(path, 'utf8');
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const second = await createApp(config);
      const restarted = await second.start();
      try {
        const me = await new HttpClient(restarted.url, user.token).get('/v1/user/user');
        expect(me.status).toBe(200);
        expect(me.body.data.info.id).toBe(user.id);
        expect(readFileSync(path, 'utf8')).toBe(stored);
      } finally {
        await second.stop();
      }
    } finally {
      await cleanup();
    }
  });
});
