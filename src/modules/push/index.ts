/** The push module: device registry (and, in the worker, delivery to push providers). */
export { DeviceRepository } from './device.repository.js';
export { DeviceService } from './device.service.js';
export { pushRoutes } from './push.routes.js';
export { PushErrors } from './push.errors.js';
export type { PushDevice, PushDeviceInfo, PushPlatform } from './push.entity.js';
export { OfflineTextComposer } from './offline-text.js';
export type { PushPreview } from './push-decision.js';
export { createProviderSenders, type ProviderSenders } from './provider-senders.js';
export { FcmSender } from './fcm-sender.js';
export { ApnsSender } from './apns-sender.js';
export { ProviderError } from './provider-retry.js';
