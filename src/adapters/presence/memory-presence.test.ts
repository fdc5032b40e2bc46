import { describe, expect, it } from 'vitest';
import { MemoryPresence } from './memory-presence.js';

describe('MemoryPresence', () => {
  it('keeps a user online while any connection lives', async () => {
    const presence = new MemoryPresence();
    await presence.connected('u1', 'c1');
    await presence.connected('u1', 'c2');
    await presence.connected('u2', 'c3');
    expect(await presence.onlineAmong(['u1', 'u2', 'u3'])).toEqual(new Set(['u1', 'u2']));
    await presence.disconnected('u1', 'c1');
    expect(await presence.onlineAmong(['u1'])).toEqual(new Set(['u1']));
    await presence.disconnected('u1', 'c2');
    await presence.disconnected('u1', 'unknown');
    expect(await presence.onlineAmong(['u1', 'u2'])).toEqual(new Set(['u2']));
  });
});
