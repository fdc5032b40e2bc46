import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { authenticate, caller } from '../../auth/authenticate.js';
import type { TokenService } from '../../auth/token.service.js';
import { AppError } from '../../errors/app-error.js';
import { errorResponses, ok } from '../../http/envelope.js';
import type { DeviceService } from './device.service.js';
import { PushErrors } from './push.errors.js';
import {
  DeviceListResponse,
  DeviceQuery,
  EmptyResponse,
  RegisterDeviceBody,
  security,
  tags,
  VapidKeyResponse,
} from './push.schema.js';

/** `/v1/push/devices` (thin edges over DeviceService) and `/v1/push/vapidKey`. */
export function pushRoutes(deps: {
  devices: DeviceService;
  tokens: TokenService;
  /** `push.webpush.publicKey`; empty when Web Push is off. */
  vapidPublicKey: string;
}): FastifyPluginAsyncTypebox {
  const { devices, vapidPublicKey } = deps;
  return async (app) => {
    app.addHook('onRequest', authenticate(deps.tokens));

    app.post(
      '/devices',
      {
        schema: {
          tags,
          security,
          summary:
            'Register this device for offline pushes (replaces an earlier registration of the deviceId; ends at logout)',
          operationId: 'registerPushDevice',
          errors: [
            PushErrors.tokenRequired,
            PushErrors.subscriptionRequired,
            PushErrors.tooManyDevices,
          ],
          body: RegisterDeviceBody,
          response: { 200: EmptyResponse, ...errorResponses },
        },
      },
      async (request) => {
        await devices.register(caller(request), request.body);
        return ok({});
      },
    );

    app.delete(
      '/devices',
      {
        schema: {
          tags,
          security,
          summary: 'Stop offline pushes to one of my devices',
          operationId: 'removePushDevice',
          errors: [PushErrors.deviceNotFound],
          querystring: DeviceQuery,
          response: { 200: EmptyResponse, ...errorResponses },
        },
      },
      async (request) => {
        await devices.unregister(caller(request).userId, request.query.deviceId);
        return ok({});
      },
    );

    app.get(
      '/devices',
      {
        schema: {
          tags,
          security,
          summary: 'My devices registered for offline pushes',
          operationId: 'pushDevices',
          response: { 200: DeviceListResponse, ...errorResponses },
        },
      },
      async (request) => ok({ list: await devices.list(caller(request).userId) }),
    );

    app.get(
      '/vapidKey',
      {
        schema: {
          tags,
          security,
          summary: 'The VAPID public key a browser subscribes with (Web Push)',
          operationId: 'pushVapidKey',
          errors: [PushErrors.webPushDisabled],
          response: { 200: VapidKeyResponse, ...errorResponses },
        },
      },
      async () => {
        if (vapidPublicKey === '') throw new AppError(PushErrors.webPushDisabled);
        return ok({ publicKey: vapidPublicKey });
      },
    );
  };
}
