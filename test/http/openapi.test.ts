/**
 * The served OpenAPI document as a client generator and a linter see it: Redocly's
 * recommended rules pass, openapi-typescript turns it into types a small typed
 * client compiles against (and a wrong call does not), every operation is named,
 * public ones say so, every error status is listed. And a known path asked with
 * the wrong method answers 405 with `Allow`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';

interface Operation {
  operationId?: string;
  security?: Array<Record<string, unknown>>;
  responses: Record<string, { description: string; content?: unknown }>;
}
interface Document {
  servers?: Array<{ url: string }>;
  components: { schemas: Record<string, unknown> };
  paths: Record<string, Record<string, Operation>>;
}

const METHODS = ['get', 'post', 'put', 'delete', 'patch'];

function operations(doc: Document): Array<[string, Operation]> {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]): [string, Operation] => [`${method.toUpperCase()} ${path}`, op]),
  );
}

describe('OpenAPI document', () => {
  let t: TestApp;
  let text: string;
  let doc: Document;
  beforeAll(async () => {
    // A metrics token and the admin API on: every route the server has is in the document.
    t = await startTestApp({
      overrides: { metrics: { token: 'm'.repeat(32) }, admin: { token: 'a'.repeat(32) } },
    });
    text = await (await fetch(`${t.url}/docs/json`)).text();
    doc = JSON.parse(text) as Document;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('passes Redocly lint (recommended rules) with no errors', async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: text, absoluteRef: 'openapi.json', config });
    const errors = problems.filter((p) => p.severity === 'error');
    expect(errors.map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`)).toEqual([]);
    // The only warnings allowed: health checks have no 4xx answer to document.
    const warnings = problems
      .filter((p) => p.severity === 'warn')
      .map((p) => `${p.ruleId} ${p.location[0]?.pointer}`);
    expect(warnings.sort()).toEqual([
      'operation-4xx-response #/paths/~1healthz/get/responses',
      'operation-4xx-response #/paths/~1readyz/get/responses',
    ]);
  });

  it('names every operation once, marks public ones and lists error answers', () => {
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThan(30);
    const ids = ops.map(([, op]) => op.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z0-9]*$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);

    expect(doc.servers?.[0]?.url).toBe('/');
    expect(Object.keys(doc.components.schemas)).toContain('ErrorEnvelope');
    expect(text).not.toMatch(/def-\d/);

    for (const [name, op] of ops) {
      expect(op.security, name).toBeDefined();
      const bearer = op.security!.some((s) => 'bearer' in s);
      const statuses = Object.keys(op.responses);
      // No catch-all ranges: each status is spelled out with the codes it carries.
      expect(
        statuses.filter((s) => /X/.test(s)),
        name,
      ).toEqual([]);
      if (bearer) expect(op.responses['401']?.description, name).toContain('100003');
      expect(op.responses['503']?.description, name).toContain('100004');
    }
    const byName = Object.fromEntries(ops);
    expect(byName['POST /v1/user/login']!.security).toEqual([]);
    expect(byName['POST /v1/user/register']!.responses['409']!.description).toContain('200001');
    expect(byName['POST /v1/user/register']!.responses['400']!.description).toContain('100002');
    expect(byName['DELETE /v1/social/group/member']!.responses['403']!.description).toContain(
      '300110',
    );
    expect(byName['POST /v1/events']!.security).toEqual([{ eventSignature: [] }]);
    expect(byName['GET /v1/user/user']!.operationId).toBe('me');
  });

  it('generates types with openapi-typescript that a typed client compiles against', async () => {
    const types = astToString(await openapiTS(JSON.parse(text)));
    const dir = mkdtempSync(join(tmpdir(), 'easy-chat-openapi-'));
    try {
      writeFileSync(join(dir, 'api.ts'), types);
      const client = `
import type { operations } from './api.js';
type Body<Op extends keyof operations> = operations[Op] extends {
  requestBody?: { content: { 'application/json': infer B } };
} ? B : never;
type Data<Op extends keyof operations> = operations[Op]['responses'] extends {
  200: { content: { 'application/json': { data: infer D } } };
} ? D : never;

async function call<Op extends keyof operations>(
  path: string, method: string, body: Body<Op>, token?: string,
): Promise<Data<Op>> {
  const res = await fetch(path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: 'Bearer ' + token } : {}) },
    body: JSON.stringify(body),
  });
  return ((await res.json()) as { data: Data<Op> }).data;
}

export async function demo(): Promise<number> {
  const { token, expire } = await call<'login'>('/v1/user/login', 'POST', { phone: '13800000000', password: 'secret123' });
  const { conversationId } = await call<'setupConversation'>('/v1/im/setup/conversation', 'POST', { recvId: 'u', chatType: 2 }, token);
  return expire + conversationId.length;
}
`;
      const wrong = `
import type { operations } from './api.js';
type LoginBody = operations['login']['requestBody']['content']['application/json'];
export const body: LoginBody = { phone: 13800000000, password: 'x' };
`;
      writeFileSync(join(dir, 'client.ts'), client);
      writeFileSync(join(dir, 'wrong.ts'), wrong);
      const compile = (file: string) =>
        ts
          .getPreEmitDiagnostics(
            ts.createProgram([join(dir, file)], {
              strict: true,
              noEmit: true,
              target: ts.ScriptTarget.ES2022,
              module: ts.ModuleKind.NodeNext,
              moduleResolution: ts.ModuleResolutionKind.NodeNext,
              lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
              types: [],
            }),
          )
          .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      expect(compile('client.ts')).toEqual([]);
      // The types are real: a number where the document says string does not compile.
      expect(compile('wrong.ts').join('\n')).toMatch(/number.*not assignable.*string/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Two TypeScript programs with the DOM library: a minute or more on a loaded machine.
  }, 240_000);

  it('answers 405 with Allow for a known path and the wrong method, 404 for unknown paths', async () => {
    const login = await fetch(`${t.url}/v1/user/login`, { method: 'GET' });
    expect(login.status).toBe(405);
    expect(login.headers.get('allow')).toBe('POST');
    expect(await login.json()).toMatchObject({ code: 100014, data: null });

    const user = await fetch(`${t.url}/v1/user/user?x=1`, { method: 'PATCH' });
    expect(user.status).toBe(405);
    expect(user.headers.get('allow')).toBe('DELETE, GET, HEAD, PUT');

    const missing = await fetch(`${t.url}/v1/user/nothing`, { method: 'GET' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 100005 });
  });
});
