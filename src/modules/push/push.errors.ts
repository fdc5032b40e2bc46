import { defineErrors } from '../../errors/app-error.js';

/** Push module errors (7xxxxx). */
export const PushErrors = defineErrors({
  deviceNotFound: {
    code: 700001,
    status: 404,
    message: 'no device of yours is registered under this deviceId',
  },
  tokenRequired: {
    code: 700002,
    status: 400,
    message: 'fcm and apns devices are registered with a token (and no subscription)',
  },
  subscriptionRequired: {
    code: 700003,
    status: 400,
    message:
      'webpush devices are registered with a subscription {endpoint, keys: {p256dh, auth}} (and no token)',
  },
  tooManyDevices: {
    code: 700004,
    status: 409,
    message: 'too many devices registered; remove one first',
  },
  webPushDisabled: {
    code: 700005,
    status: 404,
    message: 'Web Push is not configured on this server (push.webpush keys)',
  },
});
