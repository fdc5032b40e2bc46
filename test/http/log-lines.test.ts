import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/shared/logger.js';
import { createUser } from '../support/factories.js';
import { logLines } from '../support/log-lines.js';
import { suiteApp } from '../support/suite-app.js';
import { WsClient } from '../support/ws-client.js';

/**
 * The top-level keys of one JSON object text, in order and with repeats (JSON.parse
 * keeps only the last of two equal keys, so it cannot show a duplicate).
 */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      let k = j + 1;
      while (text[k] === ' ') k += 1;
      if (depth === 1 && text[k] === ':') keys.push(JSON.parse(text.slice(i, j + 1)) as string);
      i = j;
    } else if (c === '{' || c === '[') depth += 1;
    else if (c === '}' || c === ']') depth -= 1;
  }
  return keys;
}

const duplicates = (keys: string[]) => keys.filter((k, i) => keys.indexOf(k) !== i);

describe('log lines', () => {
  const lines: string[] = [];
  const { t } = suiteApp({
    overrides: { log: { level: 'debug' } },
    logDestination: logLines(lines),
  });

  it('a rejection carries the error text under errMsg, and no line repeats a key', async () => {
    const user = await createUser(t.client);
    await t.client.post('/v1/user/login', { phone: user.phone, password: 'wrong-password-1' });
    await t.client.post('/v1/user/login', { phone: 'abc', password: 'x' });
    await t.client.get('/v1/nowhere');
    const ws = await (await WsClient.connect(t.url, { token: user.token })).ready();
    await ws.request('conversation.sync', { zzz: 1 });
    await ws.close();

    const rejected = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.msg === 'request rejected');
    expect(rejected.map((r) => [r.code, r.errMsg])).toEqual(
      expect.arrayContaining([
        [200002, 'phone or password is incorrect'],
        [100002, expect.stringMatching(/^body\/phone must match pattern/)],
      ]),
    );
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) expect(duplicates(topLevelKeys(line)), line).toEqual([]);
  });

  it('a logged object carrying its own msg keeps it as errMsg', () => {
    const captured: string[] = [];
    const logger = createLogger({ level: 'info', nodeId: 'n' }, logLines(captured));
    logger.info({ code: 1, msg: 'the cause' }, 'something failed');
    const [line] = captured;
    expect(duplicates(topLevelKeys(line!))).toEqual([]);
    expect(JSON.parse(line!)).toMatchObject({ msg: 'something failed', errMsg: 'the cause' });
  });
});
