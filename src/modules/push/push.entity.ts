/** Where a device's notifications go. */
export type PushPlatform = 'fcm' | 'apns' | 'webpush';

/** A Web Push subscription as the browser's `PushSubscription.toJSON()` gives it. */
export interface WebPushSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** A registered device as the owner sees it (the token itself is never shown back). */
export interface PushDeviceInfo {
  deviceId: string;
  platform: PushPlatform;
  locale: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A device as the sender uses it: where to send, and the access token it is bound to. */
export interface PushDevice extends PushDeviceInfo {
  userId: string;
  /** FCM/APNs token, or the Web Push endpoint. */
  token: string;
  /** Web Push only. */
  subscription?: WebPushSubscription;
  tokenJti: string;
  tokenIat: number;
  /** Epoch seconds. */
  tokenExp: number;
}
