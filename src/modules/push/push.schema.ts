import { Type } from 'typebox';
import { EnvelopeOf } from '../../http/envelope.js';

export const tags = ['push'];
export const security = [{ bearer: [] }];

const DeviceId = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: '^[A-Za-z0-9._:-]+$',
  description: 'chosen by the app, stable per installation (letters, digits, . _ : -)',
});

const Base64Url = (min: number, max: number, description: string) =>
  Type.String({ minLength: min, maxLength: max, pattern: '^[A-Za-z0-9_-]+={0,2}$', description });

export const WebPushSubscriptionSchema = Type.Object({
  endpoint: Type.String({
    minLength: 9,
    maxLength: 2048,
    pattern: '^https://[^\\s]+$',
    description: "the push service URL of the browser's subscription",
  }),
  // PushSubscription.toJSON() includes it (usually null); accepted and not stored.
  expirationTime: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
  keys: Type.Object({
    p256dh: Base64Url(86, 88, 'the P-256 public key of the subscription, base64url'),
    auth: Base64Url(22, 24, 'the 16-byte auth secret, base64url'),
  }),
});

export const RegisterDeviceBody = Type.Object({
  deviceId: DeviceId,
  platform: Type.Union([Type.Literal('fcm'), Type.Literal('apns'), Type.Literal('webpush')]),
  token: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 4096,
      pattern: '^[A-Za-z0-9._:-]+$',
      description: 'the FCM registration token or APNs device token (fcm and apns only)',
    }),
  ),
  subscription: Type.Optional(WebPushSubscriptionSchema),
  locale: Type.Optional(
    Type.String({
      maxLength: 35,
      pattern: '^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$',
      description: 'BCP 47 language tag, e.g. en-GB',
    }),
  ),
});

export const DeviceQuery = Type.Object({ deviceId: DeviceId });

const PushDeviceSchema = Type.Object({
  deviceId: Type.String(),
  platform: Type.Union([Type.Literal('fcm'), Type.Literal('apns'), Type.Literal('webpush')]),
  locale: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.Integer({ description: 'first registered, epoch milliseconds' }),
  updatedAt: Type.Integer({ description: 'last registered, epoch milliseconds' }),
});

export const DeviceListResponse = EnvelopeOf(
  Type.Object({ list: Type.Array(PushDeviceSchema, { description: 'oldest registration first' }) }),
);
export const EmptyResponse = EnvelopeOf(Type.Object({}));

export const VapidKeyResponse = EnvelopeOf(
  Type.Object({
    publicKey: Type.String({
      description:
        'the VAPID public key (base64url) to pass as applicationServerKey to pushManager.subscribe',
    }),
  }),
);
