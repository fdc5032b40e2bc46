/** The push module: device registry (and, in the worker, delivery to push providers). */
export { DeviceRepository } from './device.repository.js';
export { DeviceService } from './device.service.js';
export { pushRoutes } from './push.routes.js';
export { PushErrors } from './push.errors.js';
export type { PushDevice, PushDeviceInfo, PushPlatform } from './push.entity.js';
export { OfflineTextComposer } from './offline-text.js';
export { NotificationNames, followNameChanges } from './notification-names.js';
export type { PushPreview } from './push-decision.js';
export { PushSentRepository } from './push-sent.repository.js';
export { PushMetrics } from './push-metrics.js';
export { ProviderDispatcher, type PushProviders, type TokenSender } from './provider-dispatcher.js';
export { NotificationSender } from './notification-sender.js';
export { buildPushProviders } from './push-providers.js';
export {
  PUSH_DELIVERY_QUEUE,
  startPushDelivery,
  type RecipientDirectory,
} from './push-delivery.js';
export { WebhookPushes } from './webhook-pushes.js';
export { createProviderSenders, type ProviderSenders } from './provider-senders.js';
export { FcmSender } from './fcm-sender.js';
export { ApnsSender } from './apns-sender.js';
export { ProviderError } from './provider-retry.js';
