import { describe, expect, it } from 'vitest';
import { createUser } from '../../../test/support/factories.js';
import { suiteApp } from '../../../test/support/suite-app.js';

describe('IM HTTP routes: authentication and input checks', () => {
  const { t } = suiteApp();

  const routes: Array<[string, string, unknown?]> = [
    ['GET', '/v1/im/chatlog?conversationId=x'],
    ['GET', '/v1/im/chatlog/readRecords?msgId=x'],
    ['POST', '/v1/im/setup/conversation', { recvId: 'x', chatType: 2 }],
    ['GET', '/v1/im/conversation'],
    ['PUT', '/v1/im/conversation', { conversationList: {} }],
  ];

  it.each(routes)('%s %s needs a token', async (method, path, body) => {
    const res = await t.client.request(method, path, { body });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe(100003);
  });

  it('rejects malformed input with 400 / 100002', async () => {
    const user = await createUser(t.client);
    const bad: Array<[string, string, unknown?]> = [
      ['GET', '/v1/im/chatlog'],
      ['GET', '/v1/im/chatlog?conversationId=x&count=0'],
      ['GET', '/v1/im/chatlog?conversationId=x&startSeq=-1'],
      ['GET', '/v1/im/chatlog?conversationId=x&endSeq=abc'],
      ['GET', '/v1/im/chatlog/readRecords'],
      ['POST', '/v1/im/setup/conversation', { recvId: 'x', chatType: 3 }],
      ['POST', '/v1/im/setup/conversation', { chatType: 2 }],
      ['PUT', '/v1/im/conversation', { conversationList: { x: { readSeq: 'one' } } }],
      ['PUT', '/v1/im/conversation', { conversationList: [] }],
    ];
    for (const [method, path, body] of bad) {
      const res = await user.client.request(method, path, { body });
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(res.body.code).toBe(100002);
    }
  });
});
