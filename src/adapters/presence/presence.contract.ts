import { afterEach, describe, expect, it } from 'vitest';
import type { Presence } from './presence.js';

/** Behaviour every Presence has; multi-node behaviour is tested per implementation. */
export function presenceContract(name: string, open: (nodeId: string) => Presence): void {
  describe(`Presence contract: ${name}`, () => {
    const opened: Presence[] = [];
    afterEach(async () => {
      for (const p of opened.splice(0)) await p.close();
    });
    const make = (nodeId = 'node-a') => {
      const p = open(nodeId);
      opened.push(p);
      return p;
    };

    it('keeps a user online while any of their connections lives', async () => {
      const p = make();
      await p.connected('u1', 'c1');
      await p.connected('u1', 'c2');
      await p.connected('u2', 'c3');
      expect(await p.onlineAmong(['u1', 'u2', 'u3'])).toEqual(new Set(['u1', 'u2']));
      await p.disconnected('u1', 'c1');
      expect(await p.onlineAmong(['u1'])).toEqual(new Set(['u1']));
      await p.disconnected('u1', 'c2');
      await p.disconnected('u1', 'never-connected');
      expect(await p.onlineAmong(['u1', 'u2'])).toEqual(new Set(['u2']));
      expect(await p.onlineAmong([])).toEqual(new Set());
    });

    it('counts distinct online users', async () => {
      const p = make();
      const before = await p.onlineCount();
      await p.connected('count-u1', 'c1');
      await p.connected('count-u1', 'c2');
      await p.connected('count-u2', 'c3');
      expect(await p.onlineCount()).toBe(before + 2);
      await p.disconnected('count-u1', 'c1');
      expect(await p.onlineCount()).toBe(before + 2);
      await p.disconnected('count-u1', 'c2');
      expect(await p.onlineCount()).toBe(before + 1);
    });

    it('answers which access tokens (devices) each online user is connected with', async () => {
      const p = make();
      await p.connected('u1', 'c1', 'jti-phone');
      await p.connected('u1', 'c2', 'jti-laptop');
      await p.connected('u2', 'c3');
      expect(await p.onlineTokens(['u1', 'u2', 'u3'])).toEqual(
        new Map([
          ['u1', new Set(['jti-phone', 'jti-laptop'])],
          ['u2', new Set()],
        ]),
      );
      await p.disconnected('u1', 'c1');
      expect(await p.onlineTokens(['u1'])).toEqual(new Map([['u1', new Set(['jti-laptop'])]]));
      expect(await p.onlineAmong(['u1', 'u2'])).toEqual(new Set(['u1', 'u2']));
      await p.disconnected('u1', 'c2');
      expect(await p.onlineTokens(['u1'])).toEqual(new Map());
      expect(await p.onlineTokens([])).toEqual(new Map());
    });

    it('routes online users to the node holding them', async () => {
      const p = make('node-x');
      await p.connected('u1', 'c1');
      await p.connected('u2', 'c2');
      const routes = await p.routes(['u1', 'u2', 'offline']);
      expect([...routes.keys()]).toEqual(['node-x']);
      expect(routes.get('node-x')!.sort()).toEqual(['u1', 'u2']);
      expect(await p.routes(['offline'])).toEqual(new Map());
    });
  });
}
