/**
 * The loopback FCM and APNs of the tests, run in their own process for
 * bench/push-providers.ts, so that the bench process's CPU is the senders' alone.
 * Sends the parent, over IPC, the URLs, certificates and the credentials to use.
 */
import { fakeApnsKey, startFakeApns } from '../../test/support/fake-apns.js';
import { fakeServiceAccount, startFakeFcm } from '../../test/support/fake-fcm.js';

const account = fakeServiceAccount('bench-project');
const key = fakeApnsKey();
const topic = 'com.example.bench';
const fcm = await startFakeFcm({ serviceAccount: account });
const apns = await startFakeApns({ key, topic });
// The fakes record every request for tests; a bench keeps nothing.
setInterval(() => {
  fcm.received.length = 0;
  fcm.tokenRequests.length = 0;
  apns.received.length = 0;
}, 200).unref();

process.send!({
  fcm: { url: fcm.url, tokenEndpoint: fcm.tokenEndpoint, ca: fcm.ca, serviceAccount: account.json },
  apns: { url: apns.url, ca: apns.ca, p8: key.p8, keyId: key.keyId, teamId: key.teamId, topic },
});
process.on('disconnect', () => {
  void Promise.all([fcm.close(), apns.close()]).then(() => process.exit(0));
});
