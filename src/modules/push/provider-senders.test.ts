import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeApnsKey, startFakeApns, type FakeApns } from '../../../test/support/fake-apns.js';
import { fakeServiceAccount, startFakeFcm, type FakeFcm } from '../../../test/support/fake-fcm.js';
import { loadConfig, type DeepPartial } from '../../config/load-config.js';
import type { Config } from '../../config/config.schema.js';
import { createProviderSenders } from './provider-senders.js';
import type { DeviceNotification } from './push-decision.js';

const notification = (platform: 'fcm' | 'apns'): DeviceNotification => ({
  userId: 'u1',
  deviceId: 'd1',
  platform,
  title: 'Alice',
  body: 'hi',
  badge: 1,
  data: { conversationId: 'si_a_b', seq: '1', msgId: 'm1' },
  collapseKey: 'si_a_b',
  dedupKey: 'u1\u0000d1\u0000m1',
});
const apnsToken = 'ab'.repeat(32);

describe('push.fcm / push.apns build senders that reach the configured endpoints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'push-providers-'));
  const account = fakeServiceAccount('configured-project');
  const key = fakeApnsKey();
  let fcm: FakeFcm;
  let apns: FakeApns;
  const push = (overrides: DeepPartial<Config['push']>) =>
    loadConfig({ env: 'test', environment: {}, overrides: { push: overrides } }).push;

  beforeAll(async () => {
    fcm = await startFakeFcm({ serviceAccount: account });
    apns = await startFakeApns({ key, topic: 'com.example.chat' });
    writeFileSync(join(dir, 'service-account.json'), account.json);
    writeFileSync(join(dir, 'AuthKey.p8'), key.p8);
    writeFileSync(join(dir, 'fcm-ca.pem'), fcm.ca);
    writeFileSync(join(dir, 'apns-ca.pem'), apns.ca);
  });
  afterAll(async () => {
    await Promise.all([fcm.close(), apns.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds nothing by default', () => {
    expect(createProviderSenders(push({}))).toEqual({});
  });

  it('sends through FCM with a service account file, or the JSON inline', async () => {
    for (const credential of [
      { serviceAccountFile: join(dir, 'service-account.json') },
      { serviceAccount: account.json },
    ]) {
      const { fcm: sender, apns: none } = createProviderSenders(
        push({
          fcm: {
            ...credential,
            endpoint: fcm.url,
            tokenEndpoint: fcm.tokenEndpoint,
            caFile: join(dir, 'fcm-ca.pem'),
          },
        }),
      );
      expect(none).toBeUndefined();
      expect(await sender!.send('configured-token', notification('fcm'))).toBe('sent');
      await sender!.close();
    }
    const sent = fcm.received.filter((r) => r.message?.token === 'configured-token');
    expect(sent.map((r) => [r.projectId, r.problem])).toEqual([
      ['configured-project', undefined],
      ['configured-project', undefined],
    ]);
  });

  it('sends through APNs with a .p8 key file', async () => {
    const { apns: sender } = createProviderSenders(
      push({
        apns: {
          keyFile: join(dir, 'AuthKey.p8'),
          keyId: key.keyId,
          teamId: key.teamId,
          topic: 'com.example.chat',
          endpoint: apns.url,
          caFile: join(dir, 'apns-ca.pem'),
        },
      }),
    );
    expect(await sender!.send(apnsToken, notification('apns'))).toBe('sent');
    await sender!.close();
    expect(apns.received.map((r) => r.problem)).toEqual([undefined]);
  });

  it('stops start-up with the key named when a provider is half set or its files are wrong', () => {
    const apnsKey = {
      key: key.p8,
      keyId: key.keyId,
      teamId: key.teamId,
      topic: 'com.example.chat',
    };
    const cases: Array<[DeepPartial<Config['push']>, string | RegExp]> = [
      [
        { fcm: { serviceAccount: account.json, serviceAccountFile: '/x.json' } },
        'push.fcm: set serviceAccount or serviceAccountFile, not both',
      ],
      [
        { fcm: { serviceAccountFile: join(dir, 'missing.json') } },
        /^push\.fcm\.serviceAccountFile: cannot read .*missing\.json \(ENOENT\)$/,
      ],
      [{ fcm: { serviceAccount: '{"type":' } }, /^push\.fcm\.serviceAccount: not JSON/],
      [
        { fcm: { serviceAccount: JSON.stringify({ type: 'service_account' }) } },
        'push.fcm.serviceAccount: "private_key" is missing',
      ],
      [
        { fcm: { serviceAccount: account.json, caFile: join(dir, 'nope.pem') } },
        /^push\.fcm\.caFile: cannot read .*nope\.pem \(ENOENT\)$/,
      ],
      [{ apns: { ...apnsKey, keyFile: '/AuthKey.p8' } }, 'push.apns: set key or keyFile, not both'],
      [{ apns: { ...apnsKey, key: 'not a key' } }, /^push\.apns\.key: not a PEM private key/],
      [
        { apns: { ...apnsKey, keyId: '' } },
        /^push\.apns\.keyId: required with an APNs key: the Key ID/,
      ],
      [
        { apns: { ...apnsKey, teamId: 'team-1' } },
        /^push\.apns\.teamId: "team-1" is not 10 capital letters and digits/,
      ],
      [
        { apns: { ...apnsKey, topic: '' } },
        /^push\.apns\.topic: required with an APNs key: the app's bundle id/,
      ],
    ];
    for (const [config, message] of cases) {
      expect(() => createProviderSenders(push(config)), JSON.stringify(config)).toThrow(message);
    }
  });
});
