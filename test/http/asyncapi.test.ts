/**
 * The WebSocket protocol's AsyncAPI document: served publicly at
 * /docs/asyncapi.json, valid for the AsyncAPI parser (no error diagnostics),
 * listing exactly the methods the gateway runs and the pushes of the push map —
 * and true: every frame of a real session (requests sent, answers, errors and
 * pushes received over a real socket) fits the message the document gives it.
 */
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerPushes } from '../../src/catalogue/server-pushes.js';
import { createUser } from '../support/factories.js';
import { befriend, createGroupWith } from '../support/social.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { WsClient, type Frame } from '../support/ws-client.js';

interface AsyncApiDoc {
  asyncapi: string;
  operations: Record<string, { action: string }>;
  components: { messages: Record<string, { payload: Record<string, unknown> }> };
}

describe('AsyncAPI document of the WebSocket protocol', () => {
  let t: TestApp;
  let doc: AsyncApiDoc;
  beforeAll(async () => {
    t = await startTestApp();
    const res = await fetch(`${t.url}/docs/asyncapi.json?zzz=1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    doc = (await res.json()) as AsyncApiDoc;
  });
  afterAll(async () => {
    await t.close();
  });

  it('is served without a token and parses as AsyncAPI 3 with no errors', async () => {
    expect(doc.asyncapi).toBe('3.0.0');
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(doc));
    const errors = diagnostics.filter(
      (d) => Number(d.severity) === Number(DiagnosticSeverity.Error),
    );
    expect(errors.map((d) => `${d.path.join('.')}: ${d.message}`)).toEqual([]);
    expect(document).toBeDefined();
    expect(document!.operations().length).toBe(Object.keys(doc.operations).length);
  });

  it('lists every method the gateway runs and every push of the push map, nothing else', () => {
    const sends = Object.entries(doc.operations)
      .filter(([name, op]) => op.action === 'send' && name !== 'ping')
      .map(([name]) => name.replace(/^send\./, ''))
      .sort();
    const receives = Object.entries(doc.operations)
      .filter(([, op]) => op.action === 'receive')
      .map(([name]) => name.replace(/^receive\./, ''))
      .sort();
    expect(sends).toEqual(Object.keys(t.app.wsMethods).sort());
    expect(receives).toEqual(Object.keys(ServerPushes).sort());
  });

  it('describes every frame of a real session', async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const check = (name: string, frame: unknown) => {
      const message = doc.components.messages[name];
      expect(message, `no message ${name} in the document`).toBeDefined();
      const validate = ajv.compile(message!.payload);
      expect(validate(frame), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
    };

    const [alice, bob, carol] = await Promise.all([1, 2, 3].map(() => createUser(t.client)));
    const aliceWs = await (await WsClient.connect(t.url, { token: alice!.token })).ready();
    const bobWs = await (await WsClient.connect(t.url, { token: bob!.token })).ready();
    // Friend pushes (request, handled, added) and presence reach the sockets.
    await befriend(alice!, bob!);
    await befriend(alice!, carol!);
    const groupId = await createGroupWith(alice!, [bob!, carol!]);

    const sent: Array<{ method: string; data: unknown }> = [];
    const call = async (ws: WsClient, method: string, data: unknown) => {
      sent.push({ method, data });
      return ws.request(method, data);
    };
    const chat = await call(aliceWs, 'conversation.chat', {
      chatType: 2,
      recvId: bob!.id,
      clientMsgId: 'c1',
      msg: { mType: 0, content: 'hello' },
    });
    const { conversationId, msgId } = chat.data as { conversationId: string; msgId: string };
    await call(aliceWs, 'conversation.chat', {
      chatType: 1,
      recvId: groupId,
      msg: { mType: 0, content: 'hi all' },
    });
    await call(bobWs, 'conversation.markChat', { conversationId, readSeq: 1 });
    await call(aliceWs, 'message.edit', { conversationId, msgId, content: 'hello!' });
    await call(bobWs, 'message.react', { conversationId, msgId, emoji: '👍', add: true });
    await call(aliceWs, 'conversation.typing', { conversationId, typing: true });
    await call(bobWs, 'conversation.sync', {
      conversations: { [conversationId]: { seq: 0, modSeq: 0 } },
    });
    await call(aliceWs, 'user.online', {});
    await call(aliceWs, 'message.revoke', { conversationId, msgId: 'nope' }); // an error frame
    // Wait for the pushes those cause: the message, receipt, change, typing, presence.
    await bobWs.waitFor((f) => f.method === 'conversation.typing');
    await aliceWs.waitFor(
      (f) => f.method === 'push' && (f.data as { contentType?: number }).contentType === 1,
    );
    await aliceWs.waitFor(
      (f) => f.method === 'push' && (f.data as { contentType?: number }).contentType === 2,
    );
    await bobWs.close();
    await aliceWs.waitFor((f) => f.method === 'user.presence');

    for (const { method, data } of sent)
      check(`request.${method}`, { frameType: 0, id: 'r', method, data });
    const received: Frame[] = [...aliceWs.frames, ...bobWs.frames];
    const seen = new Set<string>();
    for (const frame of received) {
      if (frame.frameType === 1) continue;
      const name =
        frame.frameType === 9
          ? 'error'
          : frame.frameType === 2
            ? `answer.${frame.method}`
            : `push.${frame.method}`;
      check(name, frame);
      seen.add(name);
    }
    // The session covered the pushes it meant to (so the checks above ran on them).
    for (const name of [
      'error',
      'push.push',
      'push.friend.request',
      'push.friend.added',
      'push.conversation.typing',
      'push.user.presence',
      'answer.conversation.chat',
    ]) {
      expect(seen, name).toContain(name);
    }
  });
});
