import { afterAll, beforeAll } from 'vitest';
import { startTestApp, type TestApp, type TestAppOptions } from './test-app.js';
import { SuiteSockets, type WsClient } from './ws-client.js';

export interface SuiteApp {
  /**
   * The suite's app (startTestApp(options)). It is filled in by the suite's beforeAll:
   * read it in hooks and tests, not while the suite is being declared.
   */
  t: TestApp;
  /** A ready socket on the app authenticated as `who` (SuiteSockets.connect). */
  connect: (who: string | { token: string }) => Promise<WsClient>;
}

/**
 * The app a suite's tests share and the sockets they open on it: the app is started
 * in the suite's beforeAll; in its afterAll the sockets are closed, then the app.
 * Call it in the describe block, before hooks that use `t` (beforeAll hooks run in
 * the order declared, afterAll hooks in the reverse order).
 */
export function suiteApp(options: TestAppOptions = {}): SuiteApp {
  const t = {} as TestApp;
  let started: TestApp | undefined;
  const sockets = new SuiteSockets(() => t);
  beforeAll(async () => {
    started = await startTestApp(options);
    Object.assign(t, started);
  });
  afterAll(async () => {
    await sockets.closeAll();
    await started?.close();
  });
  return { t, connect: (who) => sockets.connect(who) };
}
