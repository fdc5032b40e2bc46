import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, prettyDestination, wantsPrettyLogs } from './logger.js';

describe('log format', () => {
  it('is pretty at a terminal and JSON otherwise, unless LOG_FORMAT says', () => {
    expect(wantsPrettyLogs(undefined, true)).toBe(true);
    expect(wantsPrettyLogs(undefined, false)).toBe(false);
    expect(wantsPrettyLogs('json', true)).toBe(false);
    expect(wantsPrettyLogs('pretty', false)).toBe(true);
  });

  it('writes readable lines through pino-pretty, secrets still redacted', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const logger = createLogger({ level: 'info', nodeId: 'n1' }, prettyDestination(out));
    logger.info({ port: 8080, token: 'secret-token' }, 'easy-chat ready');
    logger.debug('not shown at info');
    await new Promise((r) => setTimeout(r, 50));
    const lines = text.trim().split('\n');
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: easy-chat ready$/);
    expect(text).not.toMatch(/^\{/m);
    expect(text).toContain('port: 8080');
    expect(text).toContain('[Redacted]');
    expect(text).not.toContain('secret-token');
    expect(text).not.toContain('not shown');
  });
});
