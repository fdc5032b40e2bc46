/**
 * A socket is routable before the client can see it open: a message stored the
 * moment `open` fires is pushed to it. Each trial opens a socket for Bob and, as
 * soon as it is open, Alice sends him a message; the trial misses when the push
 * never arrives. On one node (each storage) and across two gateways.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGES } from '../support/backends.js';
import { clusterServersAvailable, startCluster, type Cluster } from '../support/cluster.js';
import { createUser, type RegisteredUser } from '../support/factories.js';
import type { HttpClient } from '../support/http-client.js';
import { befriend } from '../support/social.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { WsClient } from '../support/ws-client.js';

const TRIALS = 200;
/** How long a trial waits for its push before counting it missed. */
const PUSH_WAIT_MS = 3_000;

/** Runs the trials; returns how many pushes never arrived. */
async function trials(
  api: HttpClient,
  senderUrl: string,
  receiverUrl: string,
  label: string,
): Promise<number> {
  const [alice, bob]: RegisteredUser[] = [await createUser(api), await createUser(api)];
  await befriend(alice!, bob!);
  const sender = await (await WsClient.connect(senderUrl, { token: alice!.token })).ready();
  let missed = 0;
  try {
    for (let i = 0; i < TRIALS; i += 1) {
      const receiver = await WsClient.connect(receiverUrl, { token: bob!.token });
      // `open` has fired: send at once, before anything else can happen.
      const answer = sender.request('conversation.chat', {
        chatType: 2,
        recvId: bob!.id,
        clientMsgId: `${label}-${i}`,
        msg: { mType: 0, content: `trial ${i}` },
      });
      const sent = await answer;
      expect(sent.frameType, JSON.stringify(sent.data)).toBe(2);
      const pushed = await receiver
        .waitFor((f) => f.method === 'push' && f.data?.msgId === sent.data.msgId, PUSH_WAIT_MS)
        .then(
          () => true,
          () => false,
        );
      if (!pushed) missed += 1;
      await receiver.close();
    }
  } finally {
    await sender.close();
  }
  console.log(`[fault] connect-then-send (${label}): missed ${missed}/${TRIALS}`);
  return missed;
}

describe.each(STORAGES)('connect, then send at once (one node, %s)', (storage) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ storage });
  });
  afterAll(async () => {
    await t?.close();
  });

  it(`pushes to every one of ${TRIALS} sockets that had just opened`, async () => {
    expect(await trials(t.client, t.url, t.url, `one-${storage}`)).toBe(0);
  }, 120_000);
});

describe.runIf(clusterServersAvailable('nats'))('connect, then send at once (two gateways)', () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await startCluster('nats');
  }, 120_000);
  afterAll(async () => {
    await c?.stop();
  }, 120_000);

  it(`pushes across gateways to every one of ${TRIALS} sockets that had just opened`, async () => {
    expect(await trials(c.client, c.gatewayA.url, c.gatewayB.url, 'cluster')).toBe(0);
  }, 180_000);
});
