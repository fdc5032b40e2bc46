import { ApiError, type RegisterPushDeviceInput } from '@easy-chat/sdk';

const DEVICE_KEY = 'easy-chat.deviceId';
/** The service worker (web/public/sw.js): shows pushes while no tab of the app is visible. */
export const SERVICE_WORKER_URL = '/sw.js';

/** What came of turning Web Push on. */
export type WebPushState = 'on' | 'unsupported' | 'disabled' | 'denied';

/** The REST calls this needs (the SDK's `chat.api`). */
export interface WebPushApi {
  pushVapidKey(): Promise<string>;
  registerPushDevice(input: RegisterPushDeviceInput): Promise<void>;
}

/** Whether this browser can receive Web Push at all. */
export function webPushSupported(): boolean {
  return 'serviceWorker' in navigator && typeof PushManager !== 'undefined';
}

/** This installation's device id: one per browser profile, kept across logins. */
export function browserDeviceId(): string {
  let id = localStorage.getItem(DEVICE_KEY);
  if (!id) {
    id = `web-${crypto.randomUUID()}`;
    localStorage.setItem(DEVICE_KEY, id);
  }
  return id;
}

/**
 * Subscribes this browser to Web Push with the server's VAPID key and registers
 * the subscription as this device (POST /v1/push/devices). Runs after each login
 * (a registration ends with the token that made it) once notifications are allowed.
 * A subscription made with another key (the server's keys changed) is replaced.
 */
export async function registerWebPush(api: WebPushApi): Promise<WebPushState> {
  if (!webPushSupported()) return 'unsupported';
  if (Notification.permission !== 'granted') return 'denied';
  let key: string;
  try {
    key = await api.pushVapidKey();
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return 'disabled';
    throw err;
  }
  const registration = await navigator.serviceWorker.register(SERVICE_WORKER_URL);
  await navigator.serviceWorker.ready;
  let subscription = await registration.pushManager.getSubscription();
  if (subscription && !sameKey(subscription.options.applicationServerKey, key)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ??= await registration.pushManager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: key,
  });
  const json = subscription.toJSON();
  await api.registerPushDevice({
    deviceId: browserDeviceId(),
    platform: 'webpush',
    subscription: {
      endpoint: json.endpoint ?? subscription.endpoint,
      expirationTime: json.expirationTime ?? null,
      keys: { p256dh: json.keys?.p256dh ?? '', auth: json.keys?.auth ?? '' },
    },
    locale: navigator.language,
  });
  return 'on';
}

function sameKey(current: ArrayBuffer | null, key: string): boolean {
  if (!current) return false;
  const bytes = new Uint8Array(current);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  const encoded = btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return encoded === key.replace(/=+$/, '');
}
