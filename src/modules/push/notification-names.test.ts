import { describe, expect, it } from 'vitest';
import { NotificationNames } from './notification-names.js';

const meta = { timestamp: 1, metadata: { source: 'test', version: 1 } };

/** Names over a source that counts its reads; the clock is the test's. */
function names(options: { ttlMs?: number } = {}) {
  const stored = new Map([
    ['alice', 'Alice'],
    ['g1', 'Hikers'],
  ]);
  const reads: string[] = [];
  const pending: Array<() => void> = [];
  let gate = false;
  const read = async (id: string) => {
    reads.push(id);
    // What the database answered; with the gate on it arrives only when released.
    const name = stored.get(id);
    if (gate) await new Promise<void>((resolve) => pending.push(resolve));
    return name;
  };
  const clock = { now: 1_000 };
  const held = new NotificationNames(
    { nickname: read, groupName: read },
    { clock: () => clock.now, ...options },
  );
  return {
    held,
    stored,
    reads,
    clock,
    hold: (on: boolean) => (gate = on),
    release: () => pending.splice(0).forEach((resolve) => resolve()),
  };
}

const userUpdated = (userId: string, fields: string[]) =>
  ({
    ...meta,
    id: 'e1',
    type: 'user-updated',
    aggregate: 'user',
    payload: { userId, fields },
  }) as const;
const groupUpdated = (groupId: string, changes: { name?: string; icon?: string }) =>
  ({
    ...meta,
    id: 'e2',
    type: 'group-updated',
    aggregate: 'social',
    payload: { groupId, operatorUid: 'alice', changes },
  }) as const;

describe('NotificationNames', () => {
  it('reads a name once and holds it until its time is up', async () => {
    const n = names({ ttlMs: 60_000 });
    expect(await n.held.nickname('alice')).toBe('Alice');
    expect(await n.held.nickname('alice')).toBe('Alice');
    expect(await n.held.groupName('g1')).toBe('Hikers');
    // A deleted user has no name: held too.
    expect(await n.held.nickname('ghost')).toBeUndefined();
    expect(await n.held.nickname('ghost')).toBeUndefined();
    expect(n.reads).toEqual(['alice', 'g1', 'ghost']);
    n.stored.set('alice', 'Alicia');
    n.clock.now += 60_000;
    expect(await n.held.nickname('alice')).toBe('Alicia');
  });

  it('drops a name its change’s event names, and keeps it for other changes', async () => {
    const n = names();
    await n.held.nickname('alice');
    await n.held.groupName('g1');
    n.stored.set('alice', 'Alicia');
    n.stored.set('g1', 'Climbers');
    n.held.changed(userUpdated('alice', ['avatar']));
    n.held.changed(groupUpdated('g1', { icon: 'i.png' }));
    expect([await n.held.nickname('alice'), await n.held.groupName('g1')]).toEqual([
      'Alice',
      'Hikers',
    ]);
    n.held.changed(userUpdated('alice', ['nickname', 'sex']));
    n.held.changed(groupUpdated('g1', { name: 'Climbers' }));
    expect([await n.held.nickname('alice'), await n.held.groupName('g1')]).toEqual([
      'Alicia',
      'Climbers',
    ]);
    n.stored.delete('alice');
    n.held.changed({
      ...meta,
      id: 'e3',
      type: 'user-deleted',
      aggregate: 'user',
      payload: { userId: 'alice' },
    });
    expect(await n.held.nickname('alice')).toBeUndefined();
    n.stored.delete('g1');
    n.held.changed({
      ...meta,
      id: 'e4',
      type: 'group-dismissed',
      aggregate: 'social',
      payload: { groupId: 'g1', operatorUid: 'alice', memberIds: ['alice'] },
    });
    expect(await n.held.groupName('g1')).toBeUndefined();
  });

  it('does not keep a read that was on its way while a name was dropped', async () => {
    const n = names();
    n.hold(true);
    const early = n.held.nickname('alice');
    n.stored.set('alice', 'Alicia');
    n.held.changed(userUpdated('alice', ['nickname']));
    n.release();
    // The read answered before the change: its caller uses it, nobody after.
    expect(await early).toBe('Alice');
    n.hold(false);
    expect(await n.held.nickname('alice')).toBe('Alicia');
    expect(n.reads).toEqual(['alice', 'alice']);
  });

  it('forgets every name when cleared (the bus reconnected)', async () => {
    const n = names();
    await n.held.nickname('alice');
    n.stored.set('alice', 'Alicia');
    n.held.clear();
    expect(await n.held.nickname('alice')).toBe('Alicia');
  });
});
