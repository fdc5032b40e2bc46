import type { AuthContext } from '../../auth/token.service.js';
import type { RevocationSubject } from '../../auth/token-revocations.js';
import { AppError } from '../../errors/app-error.js';
import type { Clock } from '../../shared/clock.js';
import type { DeviceRepository } from './device.repository.js';
import type {
  PushDevice,
  PushDeviceInfo,
  PushPlatform,
  WebPushSubscription,
} from './push.entity.js';
import { PushErrors } from './push.errors.js';

/** What a client registers (the request body of `POST /v1/push/devices`). */
export interface DeviceRegistration {
  deviceId: string;
  platform: PushPlatform;
  token?: string;
  subscription?: WebPushSubscription & { expirationTime?: number | null };
  locale?: string;
}

export interface DeviceServiceDeps {
  devices: DeviceRepository;
  /** Whether an access token was revoked (logout, password change, disabled/deleted account). */
  revocations: { isRevoked(subject: RevocationSubject): Promise<boolean> };
  clock: Clock;
  maxDevicesPerUser: number;
  /**
   * Remember which users have no device, so the offline push of a message to them
   * reads nothing (most users of a chat never register one). Only for a process
   * that is the only one registering devices (one process, in-memory presence):
   * a registration elsewhere could not tell this one to forget.
   */
  rememberDeviceless?: boolean;
}

/** Users remembered as having no device, at most; then the memory starts over. */
const MAX_DEVICELESS = 100_000;

const info = (d: PushDevice): PushDeviceInfo => ({
  deviceId: d.deviceId,
  platform: d.platform,
  locale: d.locale,
  createdAt: d.createdAt,
  updatedAt: d.updatedAt,
});

/**
 * The caller's push devices. A registration is bound to the access token that
 * made it (its jti): it ends when that token stops working — the device logs out,
 * the password changes, the account is disabled or deleted, or the token expires.
 * A client therefore registers again after each login (it does so at start-up
 * anyway, since push tokens rotate). Ended registrations are never used and are
 * deleted when next seen, so no logout path needs to know about push.
 */
export class DeviceService {
  /** Users whose last lookup found no device (rememberDeviceless). */
  private readonly deviceless = new Set<string>();
  /** Bumped by every registration: a lookup that overlapped one remembers nothing. */
  private registrations = 0;

  constructor(private readonly deps: DeviceServiceDeps) {}

  /** Registers the device, replacing an earlier registration of the same deviceId. */
  async register(auth: AuthContext, input: DeviceRegistration): Promise<void> {
    const { devices, clock, maxDevicesPerUser } = this.deps;
    const target = this.target(input);
    const live = await this.liveOf(auth.userId);
    const previous = live.find((d) => d.deviceId === input.deviceId);
    if (!previous && live.length >= maxDevicesPerUser) {
      throw new AppError(PushErrors.tooManyDevices);
    }
    const now = clock();
    this.forget(auth.userId);
    await devices.upsert({
      userId: auth.userId,
      deviceId: input.deviceId,
      platform: input.platform,
      ...target,
      locale: input.locale ?? null,
      tokenJti: auth.jti,
      tokenIat: auth.iat,
      tokenExp: auth.exp,
      createdAt: previous?.createdAt ?? now,
      updatedAt: now,
    });
    // Again once stored: a lookup that began before the row existed remembers nothing.
    this.forget(auth.userId);
  }

  /** Removes one of the caller's devices; 404 / 700001 when the caller has none by that id. */
  async unregister(userId: string, deviceId: string): Promise<void> {
    if (!(await this.deps.devices.delete(userId, deviceId))) {
      throw new AppError(PushErrors.deviceNotFound);
    }
  }

  /** The caller's live devices, oldest registration first. */
  async list(userId: string): Promise<PushDeviceInfo[]> {
    return (await this.liveOf(userId)).map(info);
  }

  /** The live devices of these users, with where to send (the push sender's lookup). */
  async liveDevicesOf(userIds: readonly string[]): Promise<PushDevice[]> {
    return this.keepLive(await this.deps.devices.listOfUsers(userIds));
  }

  /**
   * Every registered device of these users, live or not, without checking their
   * tokens: the delivery first drops those online, then checks the rest (keepLive).
   */
  async registeredOf(userIds: readonly string[]): Promise<PushDevice[]> {
    if (!this.deps.rememberDeviceless) return this.deps.devices.listOfUsers(userIds);
    if (userIds.every((id) => this.deviceless.has(id))) return [];
    const registrations = this.registrations;
    const devices = await this.deps.devices.listOfUsers(userIds);
    if (registrations === this.registrations) {
      const withDevice = new Set(devices.map((d) => d.userId));
      if (this.deviceless.size + userIds.length > MAX_DEVICELESS) this.deviceless.clear();
      for (const id of userIds) if (!withDevice.has(id)) this.deviceless.add(id);
    }
    return devices;
  }

  /**
   * Whether `userId` is remembered as having no device (rememberDeviceless): the
   * offline push of a message to them can end before it starts, without a lookup.
   * False whenever a lookup would be needed to tell.
   */
  knownDeviceless(userId: string): boolean {
    return this.deps.rememberDeviceless === true && this.deviceless.has(userId);
  }

  /** A registration of `userId` is under way or done: look its devices up again. */
  private forget(userId: string): void {
    this.registrations += 1;
    this.deviceless.delete(userId);
  }

  /** Forgets a device the provider no longer knows (unless it was registered again since). */
  async prune(device: PushDevice): Promise<void> {
    await this.deps.devices.deleteIfToken(device.userId, device.deviceId, device.token);
  }

  private async liveOf(userId: string): Promise<PushDevice[]> {
    return this.keepLive(await this.deps.devices.listOf(userId));
  }

  /** Drops (and deletes) registrations whose access token stopped working. */
  async keepLive(devices: PushDevice[]): Promise<PushDevice[]> {
    const nowSec = this.deps.clock() / 1000;
    const live: PushDevice[] = [];
    for (const d of devices) {
      const ended =
        d.tokenExp <= nowSec ||
        (await this.deps.revocations.isRevoked({
          jti: d.tokenJti,
          userId: d.userId,
          iat: d.tokenIat,
        }));
      if (ended) await this.deps.devices.deleteIfToken(d.userId, d.deviceId, d.token);
      else live.push(d);
    }
    return live;
  }

  /** Token for fcm/apns, subscription for webpush: never both, never neither. */
  private target(input: DeviceRegistration): Pick<PushDevice, 'token' | 'subscription'> {
    if (input.platform === 'webpush') {
      if (!input.subscription || input.token !== undefined) {
        throw new AppError(PushErrors.subscriptionRequired);
      }
      const { endpoint, keys } = input.subscription;
      return {
        token: endpoint,
        subscription: { endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } },
      };
    }
    if (input.token === undefined || input.subscription) {
      throw new AppError(PushErrors.tokenRequired);
    }
    return { token: input.token };
  }
}
