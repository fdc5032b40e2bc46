import { afterEach, describe, expect, it } from 'vitest';
import { TEST_NATS_URL, TEST_REDIS_URL, uniqueName } from '../../../test/support/backends.js';
import type { NodeMailbox } from './mailbox.js';
import { MemoryMailbox } from './memory-mailbox.js';
import { NatsMailbox } from './nats-mailbox.js';
import { RedisMailbox } from './redis-mailbox.js';

const until = async (check: () => boolean, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

function mailboxContract(name: string, open: (space: string) => Promise<NodeMailbox>) {
  describe(`NodeMailbox contract: ${name}`, () => {
    const opened: NodeMailbox[] = [];
    afterEach(async () => {
      for (const m of opened.splice(0)) await m.close();
    });
    const make = async (space: string) => {
      const m = await open(space);
      opened.push(m);
      return m;
    };

    it('delivers to the addressed node only, in the order sent', async () => {
      const space = uniqueName('mb');
      const [sender, nodeA, nodeB] = [await make(space), await make(space), await make(space)];
      const gotA: string[] = [];
      const gotB: string[] = [];
      await nodeA.listen('a', (m) => gotA.push(m));
      await nodeB.listen('b', (m) => gotB.push(m));
      for (let i = 0; i < 50; i += 1) await sender.send('a', `m${i}`);
      await sender.send('b', 'only-b');
      await until(() => gotA.length === 50 && gotB.length === 1);
      expect(gotA).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
      expect(gotB).toEqual(['only-b']);
    });

    it('drops messages for a node nobody listens to, and stops delivering after close', async () => {
      const space = uniqueName('mb');
      const [sender, node] = [await make(space), await make(space)];
      await sender.send('nobody', 'lost');
      const got: string[] = [];
      await node.listen('n', (m) => got.push(m));
      await sender.send('n', 'one');
      await until(() => got.length === 1);
      await node.close();
      opened.splice(opened.indexOf(node), 1);
      await sender.send('n', 'after close');
      await new Promise((r) => setTimeout(r, 100));
      expect(got).toEqual(['one']);
    });
  });
}

mailboxContract('memory', async (space) => new MemoryMailbox(space));
describe.runIf(TEST_NATS_URL)('nats', () => {
  mailboxContract('nats', (space) =>
    NatsMailbox.connect({ url: TEST_NATS_URL!, prefix: space, name: 'test' }),
  );
});
describe.runIf(TEST_REDIS_URL)('redis', () => {
  mailboxContract(
    'redis',
    async (space) => new RedisMailbox({ url: TEST_REDIS_URL!, prefix: `${space}:` }),
  );
});
