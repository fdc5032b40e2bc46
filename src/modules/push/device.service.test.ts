import { describe, expect, it } from 'vitest';
import type { DeviceRepository } from './device.repository.js';
import { DeviceService } from './device.service.js';
import type { PushDevice } from './push.entity.js';

/** A repository in memory that counts lookups and can hold one back. */
function repository() {
  const rows: PushDevice[] = [];
  const state = { lookups: 0, hold: undefined as Promise<void> | undefined };
  const repo = {
    listOf: async (userId: string) => rows.filter((d) => d.userId === userId),
    listOfUsers: async (userIds: readonly string[]) => {
      state.lookups += 1;
      const found = rows.filter((d) => userIds.includes(d.userId));
      await state.hold;
      return found;
    },
    upsert: async (device: PushDevice) => {
      rows.push(device);
    },
  } as unknown as DeviceRepository;
  return { repo, state };
}

const auth = (userId: string) => ({ userId, jti: `${userId}-jti`, iat: 1, exp: 4_000_000_000 });
const registration = { deviceId: 'phone', platform: 'fcm' as const, token: 'fcm-token' };

function service(repo: DeviceRepository, rememberDeviceless: boolean) {
  return new DeviceService({
    devices: repo,
    revocations: { isRevoked: async () => false },
    clock: () => 1_000,
    maxDevicesPerUser: 5,
    rememberDeviceless,
  });
}

describe('DeviceService.registeredOf remembering users without devices', () => {
  it('looks a deviceless user up once, and again after they register', async () => {
    const { repo, state } = repository();
    const devices = service(repo, true);
    expect(await devices.registeredOf(['bob'])).toEqual([]);
    expect(await devices.registeredOf(['bob'])).toEqual([]);
    expect(state.lookups).toBe(1);
    await devices.register(auth('bob'), registration);
    expect((await devices.registeredOf(['bob'])).map((d) => d.deviceId)).toEqual(['phone']);
    expect(state.lookups).toBe(2);
  });

  it('remembers nothing from a lookup that overlapped a registration', async () => {
    const { repo, state } = repository();
    const devices = service(repo, true);
    let release!: () => void;
    state.hold = new Promise((resolve) => (release = resolve));
    // The lookup read no row, then the registration stored one before it returned.
    const lookup = devices.registeredOf(['bob']);
    await devices.register(auth('bob'), registration);
    release();
    expect(await lookup).toEqual([]);
    state.hold = undefined;
    expect((await devices.registeredOf(['bob'])).map((d) => d.deviceId)).toEqual(['phone']);
  });

  it('asks every time when other processes may register devices', async () => {
    const { repo, state } = repository();
    const devices = service(repo, false);
    await devices.registeredOf(['bob']);
    await devices.registeredOf(['bob']);
    expect(state.lookups).toBe(2);
  });
});
