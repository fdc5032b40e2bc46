/**
 * Fuzz-style walk over every HTTP route of the OpenAPI document (/docs/json) and every
 * WebSocket method: each string field, query parameter and record key gets NUL
 * characters, each number field huge and odd numbers (1e300, 2^63, Infinity, -0,
 * 1e-300...). Nothing may answer 5xx, every answer is an envelope (or an error frame),
 * and SQLite and PostgreSQL answer every input alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allErrorSpecs } from '../../src/catalogue/error-registry.js';
import { ClientFrameSchema } from '../../src/realtime/frame.js';
import { builtInIngestHandlers } from '../../src/modules/ingest/ingest.handlers.js';
import { SIGNATURE_HEADER, signBody } from '../../src/modules/ingest/ingest.signature.js';
import { STORAGES, type StorageKind } from '../support/backends.js';
import { createUser, type RegisteredUser } from '../support/factories.js';
import {
  badValuesFor,
  injectJson,
  roots,
  sample,
  slots,
  type BadValue,
  type SampleContext,
} from '../support/schema-fuzz.js';
import { befriend, createGroup, joinGroup } from '../support/social.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { WsClient, type Frame } from '../support/ws-client.js';

const ADMIN_TOKEN = 'fuzz-admin-token-0123456789abcdef';
const INGEST_SECRET = 'fuzz-ingest-secret-0123456789';
const LONG = 180_000;

/** Answers per storage, in the order sent: "<input> → <status>/<code>". */
const answers: Partial<Record<StorageKind, string[]>> = {};
const statusOf = new Map(allErrorSpecs().map((s) => [s.code, s.status]));

interface Operation {
  method: string;
  path: string;
  op: any;
}

function operations(doc: any): Operation[] {
  const out: Operation[] = [];
  for (const [path, ops] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(ops)) out.push({ method, path, op });
  }
  return out;
}

describe.each(STORAGES)('bad input on %s', (storage) => {
  let t: TestApp;
  let a: RegisteredUser;
  let ctx: SampleContext;
  const seen: string[] = [];
  const failures: string[] = [];

  beforeAll(async () => {
    answers[storage] = seen;
    t = await startTestApp({
      storage,
      overrides: {
        admin: { token: ADMIN_TOKEN },
        ingest: { sources: { fuzz: { secret: INGEST_SECRET, types: ['*'] } } },
        gateway: { framesPerSec: 100_000, frameBurst: 100_000 },
        rateLimit: { login: { perPhone: { limit: 10_000, windowSec: 60 } } },
      },
    });
    a = await createUser(t.client);
    const b = await createUser(t.client);
    const c = await createUser(t.client);
    await befriend(a, b);
    const groupId = await createGroup(a);
    await joinGroup(b, groupId);
    const verified = await createGroup(a, { isVerify: true });
    const groupReq = await c.client.post('/v1/social/group/putIn', {
      groupId: verified,
      joinSource: 2,
    });
    const friendReq = await c.client.post('/v1/social/friend/putIn', { userId: a.id });
    const socket = await (await WsClient.connect(t.url, { token: a.token })).ready();
    const sent = await socket.call('conversation.chat', {
      chatType: 2,
      recvId: b.id,
      clientMsgId: 'fuzz-seed',
      msg: { mType: 0, content: 'hello' },
    });
    await socket.close();
    ctx = {
      recordKey: sent.conversationId,
      values: {
        userId: b.id,
        recvId: b.id,
        friendUid: b.id,
        reqId: c.id,
        groupId,
        conversationId: sent.conversationId,
        friendReqId: friendReq.body.data.id,
        groupReqId: groupReq.body.data.id,
        msgId: sent.msgId,
        msgIds: [sent.msgId],
        phone: a.phone,
        password: a.password,
        ids: `${a.id},${b.id}`,
        userIds: [b.id],
        chatType: 2,
        cursor: undefined,
        event_id: undefined,
        queue: 'notify.sms',
        source: 'fuzz',
        version: '1',
        timestamp: Date.now(),
      },
    };
  }, LONG);

  afterAll(async () => {
    await t?.close();
  });

  /** A field's name in the log, without run-specific ids (the record key). */
  function slotName(path: Array<string | number>, kind: string): string {
    const name = path.map((p) => (p === ctx.recordKey ? '*' : p)).join('.');
    return kind === 'key' ? `${name}{key}` : name;
  }

  /**
   * Records one answer. A 5xx or an answer that is no envelope is a failure; so is
   * anything but a 400 to a value that must be refused (`bad.odd` values may pass).
   * /v1/events checks the signature first, and `metadata.source` names the key: an
   * unknown source is refused as unsigned (401) before the body is validated.
   */
  function record(input: string, bad: BadValue, status: number, body: unknown): void {
    const code = (body as { code?: unknown } | null)?.code;
    seen.push(`${input} → ${status}/${String(code)}`);
    const refused = status === 400 || (status === 401 && input.includes('metadata.source'));
    if (status >= 500 || typeof code !== 'number' || (!bad.odd && !refused)) {
      failures.push(`${input} → ${status} ${JSON.stringify(body).slice(0, 200)}`);
    }
  }

  async function send(
    op: Operation,
    query: URLSearchParams,
    body: string | undefined,
    input: string,
    bad: BadValue,
  ): Promise<void> {
    const url = new URL(op.path, t.url);
    url.search = query.toString();
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (op.path.startsWith('/v1/admin')) headers.authorization = `Bearer ${ADMIN_TOKEN}`;
    else if (op.op.security) headers.authorization = `Bearer ${a.token}`;
    if (op.path === '/v1/events' && body !== undefined) {
      headers[SIGNATURE_HEADER] = signBody(INGEST_SECRET, body);
    }
    let status = 0;
    let parsed: unknown = null;
    try {
      const res = await fetch(url, { method: op.method.toUpperCase(), headers, body });
      status = res.status;
      const text = await res.text();
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { notJson: text.slice(0, 100) };
      }
    } catch (err) {
      parsed = { transportError: String(err) };
    }
    record(input, bad, status, parsed);
  }

  /** The body schemas to walk for an operation (one per ingest handler for /v1/events). */
  function bodies(op: Operation): Array<{ schema: any; base: unknown; label: string }> {
    const schema = op.op.requestBody?.content?.['application/json']?.schema;
    if (!schema) return [];
    if (op.path !== '/v1/events') {
      return roots(schema).map((s, i) => ({ schema: s, base: sample(s, '', ctx), label: `#${i}` }));
    }
    return builtInIngestHandlers({ users: {} as never, systemNotices: undefined }).map((h) => {
      const withPayload = {
        ...schema,
        properties: { ...schema.properties, payload: h.payload },
      };
      const base = sample(withPayload, '', {
        ...ctx,
        values: { ...ctx.values, event_type: h.type, groupId: undefined, userId: ctx.recordKey },
      });
      return { schema: withPayload, base, label: h.type };
    });
  }

  it(
    'HTTP: every route refuses NUL strings and huge numbers in any field with 400, never 5xx',
    async () => {
      const doc = await (await fetch(`${t.url}/docs/json`)).json();
      let inputs = 0;
      for (const op of operations(doc)) {
        const route = `${op.method.toUpperCase()} ${op.path}`;
        const params: any[] = (op.op.parameters ?? []).filter((p: any) => p.in === 'query');
        const baseQuery = new URLSearchParams();
        for (const p of params) {
          const value = sample(p.schema, p.name, ctx);
          if (value !== undefined) baseQuery.set(p.name, `${value as string | number}`);
        }
        const bodyList = bodies(op);
        const baseBody = bodyList[0] ? JSON.stringify(bodyList[0].base) : undefined;
        for (const p of params) {
          for (const slot of slots(p.schema, undefined, ctx)) {
            for (const bad of badValuesFor(slot.kind)) {
              if (bad.query === undefined) continue;
              const query = new URLSearchParams(baseQuery);
              query.set(p.name, bad.query);
              inputs += 1;
              await send(op, query, baseBody, `${route} ?${p.name} ${bad.label}`, bad);
            }
          }
        }
        for (const { schema, base, label } of bodyList) {
          for (const slot of slots(schema, base, ctx)) {
            for (const bad of badValuesFor(slot.kind)) {
              if (bad.json === undefined) continue;
              const body = injectJson(base, slot, bad);
              const where = slotName(slot.path, slot.kind);
              inputs += 1;
              await send(op, baseQuery, body, `${route} ${label} ${where} ${bad.label}`, bad);
            }
          }
        }
      }
      const serverErrors = failures.filter((f) => / → 5\d\d /.test(f)).length;
      console.log(
        `[bad-input] ${storage} HTTP: ${inputs} inputs, ${serverErrors} 5xx, ${failures.length} not refused with 400`,
      );
      expect(inputs).toBeGreaterThan(300);
      expect(failures).toEqual([]);
    },
    LONG,
  );

  it(
    'WebSocket: every method refuses NUL strings and huge numbers with 100002, never 100001',
    async () => {
      const socket = await (await WsClient.connect(t.url, { token: a.token })).ready();
      const wsFailures: string[] = [];
      let inputs = 0;
      const exchange = async (text: string, input: string, bad: BadValue) => {
        const before = socket.frames.length;
        socket.sendRaw(text);
        inputs += 1;
        const answer: Frame = await socket.waitFor(
          (f) => (f.frameType === 2 || f.frameType === 9) && socket.frames.indexOf(f) >= before,
        );
        const code = answer.frameType === 9 ? answer.data?.code : 0;
        seen.push(`${input} → ${answer.frameType}/${code}`);
        const refused = answer.frameType === 9 && code === 100002;
        if (
          (answer.frameType === 9 && (statusOf.get(code) ?? 500) >= 500) ||
          (!bad.odd && !refused)
        ) {
          wsFailures.push(`${input} → ${JSON.stringify(answer.data)}`);
        }
      };
      for (const [method, handler] of Object.entries(t.app.wsMethods)) {
        for (const [i, schema] of roots(handler.schema).entries()) {
          const base = sample(schema, '', ctx);
          for (const slot of slots(schema, base, ctx)) {
            for (const bad of badValuesFor(slot.kind)) {
              if (bad.json === undefined) continue;
              const data = injectJson(base, slot, bad);
              const where = slotName(slot.path, slot.kind);
              await exchange(
                `{"frameType":0,"id":"w${inputs}","method":${JSON.stringify(method)},"data":${data}}`,
                `ws ${method} #${i} ${where} ${bad.label}`,
                bad,
              );
            }
          }
        }
      }
      // The frame's own fields, around a request that would succeed.
      const frameBase = { frameType: 0, id: 'f', method: 'user.online', data: {} };
      for (const slot of slots(ClientFrameSchema, frameBase, ctx)) {
        if (slot.path[0] === 'data') continue;
        for (const bad of badValuesFor(slot.kind)) {
          if (bad.json === undefined) continue;
          await exchange(
            injectJson(frameBase, slot, bad),
            `ws frame ${slot.path.join('.')} ${bad.label}`,
            bad,
          );
        }
      }
      expect(socket.isOpen).toBe(true);
      await socket.close();
      const serverErrors = wsFailures.filter((f) => f.includes('"code":100001')).length;
      console.log(
        `[bad-input] ${storage} WS: ${inputs} inputs, ${serverErrors} 100001, ${wsFailures.length} not refused with 100002`,
      );
      expect(inputs).toBeGreaterThan(50);
      expect(wsFailures).toEqual([]);
    },
    LONG,
  );
});

describe.runIf(STORAGES.length > 1)('bad input on every engine', () => {
  it.each(STORAGES.filter((storage) => storage !== 'sqlite'))(
    'gets the same answers on SQLite and %s',
    (other) => {
      const sqlite = answers.sqlite ?? [];
      const theirs = answers[other] ?? [];
      expect(sqlite.length).toBeGreaterThan(0);
      const differ = sqlite.flatMap((line, i) =>
        theirs[i] === line ? [] : [`${line}  |  ${other}: ${theirs[i] ?? '(none)'}`],
      );
      expect(differ).toEqual([]);
      expect(theirs.length).toBe(sqlite.length);
    },
  );
});
