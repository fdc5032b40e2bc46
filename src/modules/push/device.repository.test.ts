import { afterEach, describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { testConfig } from '../../../test/support/test-app.js';
import { openStorage, type Storage } from '../../adapters/storage/storage.js';
import { MIGRATIONS } from '../../catalogue/migrations.js';
import { DeviceRepository } from './device.repository.js';
import type { PushDevice } from './push.entity.js';

function device(userId: string, deviceId: string): PushDevice {
  return {
    userId,
    deviceId,
    platform: 'fcm',
    token: `token-${userId}-${deviceId}`,
    locale: null,
    tokenJti: `jti-${userId}`,
    tokenIat: 1,
    tokenExp: 2_000_000_000,
    createdAt: 1,
    updatedAt: 1,
  };
}

describe.each(STORAGES)('DeviceRepository.listOfUsers on %s', (kind) => {
  let storage: Storage;
  let cleanup: () => Promise<void>;
  afterEach(async () => {
    await storage.close();
    await cleanup();
  });

  it('answers the devices of exactly the users asked about, however many are asked', async () => {
    const made = testConfig({ storage: kind });
    cleanup = made.cleanup;
    storage = openStorage(made.config, MIGRATIONS);
    await storage.migrate();
    const devices = new DeviceRepository(storage.db);
    // Ids that would break a statement built by hand: quotes, a comma, JSON's and SQL's specials.
    const owners = ['u1', "o'brien", 'a,b', 'q"uote', 'back\\slash', 'ü-ñ'];
    for (const id of owners) await devices.upsert(device(id, 'phone'));
    await devices.upsert(device('u1', 'tablet'));
    await devices.upsert(device('not-asked', 'phone'));

    // A group's batch: mostly members without a device.
    const asked = [...owners, ...Array.from({ length: 1500 }, (_, i) => `member-${i}`)];
    const found = await devices.listOfUsers(asked);
    const key = (d: PushDevice) => `${d.userId}/${d.deviceId}`;
    expect(found.map(key).sort()).toEqual(
      [...owners.map((id) => `${id}/phone`), 'u1/tablet'].sort(),
    );
    expect(found.find((d) => d.userId === 'u1' && d.deviceId === 'tablet')).toEqual(
      device('u1', 'tablet'),
    );
    expect((await devices.listOfUsers(['member-1', 'member-2'])).length).toBe(0);
    expect((await devices.listOfUsers(['u1'])).map(key).sort()).toEqual(['u1/phone', 'u1/tablet']);
    expect(await devices.listOfUsers([])).toEqual([]);
  });
});
