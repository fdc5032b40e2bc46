import { afterEach, describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { testConfig } from '../../../test/support/test-app.js';
import { openStorage, type Storage } from '../../adapters/storage/storage.js';
import { MIGRATIONS } from '../../catalogue/migrations.js';
import { CachedAudience } from './cached-audience.js';
import { ConversationRepository } from './conversation.repository.js';
import { ChatType } from './im.entity.js';

const GROUP = 'g1';
const ids = Array.from({ length: 12 }, (_, i) => `u${String(i).padStart(2, '0')}`);

describe.each(STORAGES)('CachedAudience on %s', (kind) => {
  let storage: Storage;
  let cleanup: () => Promise<void>;
  afterEach(async () => {
    await storage.close();
    await cleanup();
  });

  async function setUp() {
    const made = testConfig({ storage: kind });
    cleanup = made.cleanup;
    storage = openStorage(made.config, MIGRATIONS);
    await storage.migrate();
    const repository = new ConversationRepository(storage.db);
    const join = (userId: string, joinSeq = 0) =>
      storage.db.transaction().execute(async (trx) => {
        await repository.ensureConversation(trx, GROUP, ChatType.group, 1);
        await repository.ensureMembers(
          trx,
          [{ conversationId: GROUP, userId, chatType: ChatType.group, targetId: GROUP, joinSeq }],
          1,
        );
      });
    const leave = (userId: string) =>
      storage.db.transaction().execute((trx) => repository.removeMember(trx, GROUP, userId));
    for (const id of ids) await join(id);
    return { repository, join, leave };
  }

  /** Every recipient of a push at `seq`, read in batches of `batch` as fan-out does. */
  async function everyone(
    audience: CachedAudience | ConversationRepository,
    seq: number,
    batch = 5,
  ) {
    const out: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await audience.audience(GROUP, seq, after, batch);
      out.push(...page);
      if (page.length < batch) return out;
      after = page.at(-1);
    }
  }

  it('answers what the member rows say, batch by batch, joinSeq included', async () => {
    const { repository, join } = await setUp();
    await join('u99', 7); // joined once seq 7 was taken: sees 8 and later
    const cached = new CachedAudience(repository);
    for (const seq of [7, 8]) {
      expect(await everyone(cached, seq)).toEqual(await everyone(repository, seq));
      expect(await everyone(cached, seq, 100)).toEqual(await everyone(repository, seq, 100));
    }
    expect(await everyone(cached, 7)).not.toContain('u99');
    expect(await everyone(cached, 8)).toContain('u99');
  });

  it('a member who left gets nothing more, and one who joined gets the next push — seen by every process', async () => {
    const { repository, join, leave } = await setUp();
    // Two processes, each with its own memory, one database.
    const here = new CachedAudience(repository);
    const there = new CachedAudience(new ConversationRepository(storage.db));
    expect(await everyone(here, 5)).toHaveLength(12);
    expect(await everyone(there, 5)).toHaveLength(12);

    await leave('u03');
    for (const audience of [here, there]) {
      const now = await everyone(audience, 5);
      expect(now).not.toContain('u03');
      expect(now).toHaveLength(11);
    }
    await join('u50', 4);
    for (const audience of [here, there]) {
      const now = await everyone(audience, 5);
      expect(now).toContain('u50');
      expect(now).toHaveLength(12);
    }
  });

  it('checks the version once per push: its later pages read the list the first page checked', async () => {
    const { repository, leave } = await setUp();
    let checks = 0;
    const counting = {
      audience: repository.audience.bind(repository),
      allMembers: repository.allMembers.bind(repository),
      membersVersion: async (id: string) => {
        checks += 1;
        return repository.membersVersion(id);
      },
    };
    const cached = new CachedAudience(counting);
    expect(await everyone(cached, 5, 5)).toHaveLength(12); // three pages
    expect(checks).toBe(1);
    // Leaving between two pages of a push: that push (stored before) may still reach them,
    // the next push does not.
    const first = await cached.audience(GROUP, 5, undefined, 5);
    await leave('u07');
    const rest = await cached.audience(GROUP, 5, first.at(-1), 100);
    expect([...first, ...rest]).toContain('u07');
    expect(await everyone(cached, 5, 5)).not.toContain('u07');
    expect(checks).toBe(3);
  });

  it('falls back to the rows for a conversation that does not exist', async () => {
    const { repository } = await setUp();
    const cached = new CachedAudience(repository);
    expect(await cached.audience('nope', 5, undefined, 10)).toEqual([]);
  });

  it('keeps at most maxEntries member entries, dropping the least recently used list', async () => {
    const { repository } = await setUp();
    const reads: string[] = [];
    const counting = {
      audience: repository.audience.bind(repository),
      membersVersion: repository.membersVersion.bind(repository),
      allMembers: async (id: string) => {
        reads.push(id);
        return repository.allMembers(id);
      },
    };
    const cached = new CachedAudience(counting, 12);
    await everyone(cached, 5);
    await everyone(cached, 5);
    expect(reads).toEqual([GROUP]); // held: read once
    const tiny = new CachedAudience(counting, 11);
    await everyone(tiny, 5, 100);
    await everyone(tiny, 5, 100);
    expect(reads).toEqual([GROUP, GROUP, GROUP]); // too big to hold: read each time
  });
});
