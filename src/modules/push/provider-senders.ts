import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { ConfigError } from '../../config/config-error.js';
import type { Config } from '../../config/config.schema.js';
import { APNS_PRODUCTION, APNS_SANDBOX, ApnsSender, parseApnsKey } from './apns-sender.js';
import { FcmSender, parseServiceAccount } from './fcm-sender.js';

/** The token providers `push.fcm` and `push.apns` configure; one left unset is absent. */
export interface ProviderSenders {
  fcm?: FcmSender;
  apns?: ApnsSender;
}

type PushConfig = Pick<Config['push'], 'fcm' | 'apns'>;
type ReadFile = (path: string) => string;

const readUtf8: ReadFile = (path) => readFileSync(path, 'utf8');
/** Apple's Key ID and Team ID: ten capital letters and digits. */
const APPLE_ID = /^[A-Z0-9]{10}$/;

/**
 * Builds the FCM and APNs senders from `push.fcm` / `push.apns`. Each is on when
 * its credential is set; everything it needs is read and checked here, at start,
 * so a wrong file, a half-set key or a malformed id stops start-up with a
 * ConfigError naming the key, rather than failing at the first notification.
 */
export function createProviderSenders(
  push: PushConfig,
  readFile: ReadFile = readUtf8,
): ProviderSenders {
  const senders: ProviderSenders = {};
  const fcm = fcmSender(push.fcm, readFile);
  if (fcm) senders.fcm = fcm;
  const apns = apnsSender(push.apns, readFile);
  if (apns) senders.apns = apns;
  return senders;
}

function fcmSender(config: PushConfig['fcm'], readFile: ReadFile): FcmSender | undefined {
  const text = credential(
    'push.fcm',
    'serviceAccount',
    config.serviceAccount,
    config.serviceAccountFile,
    readFile,
  );
  if (!text) return undefined;
  const serviceAccount = checked(text.key, () => parseServiceAccount(text.value));
  const ca = extraCa('push.fcm', config.caFile, readFile);
  return new FcmSender({
    serviceAccount,
    endpoint: config.endpoint,
    tokenEndpoint: config.tokenEndpoint,
    ...callSettings(config),
    ...(ca ? { ca } : {}),
  });
}

function apnsSender(config: PushConfig['apns'], readFile: ReadFile): ApnsSender | undefined {
  const text = credential('push.apns', 'key', config.key, config.keyFile, readFile);
  if (!text) return undefined;
  const key = checked(text.key, () => parseApnsKey(text.value));
  for (const [name, value, what] of [
    ['keyId', config.keyId, 'the Key ID shown beside the key in the Apple Developer account'],
    ['teamId', config.teamId, 'the Team ID of the Apple Developer account (Membership details)'],
  ] as const) {
    if (!APPLE_ID.test(value)) {
      throw new ConfigError(
        `push.apns.${name}: ${value === '' ? 'required' : `"${value}" is not 10 capital letters and digits`} with an APNs key: ${what}`,
      );
    }
  }
  if (!/^[A-Za-z0-9.-]+$/.test(config.topic)) {
    throw new ConfigError(
      `push.apns.topic: ${config.topic === '' ? 'required' : `"${config.topic}" is not a bundle id`} with an APNs key: the app's bundle id (com.example.chat)`,
    );
  }
  const ca = extraCa('push.apns', config.caFile, readFile);
  return new ApnsSender({
    key,
    keyId: config.keyId,
    teamId: config.teamId,
    topic: config.topic,
    endpoint: config.endpoint || (config.sandbox ? APNS_SANDBOX : APNS_PRODUCTION),
    ttlSec: config.ttlSec,
    ...callSettings(config),
    ...(ca ? { tls: { ca } } : {}),
  });
}

/** A credential given inline (`name`) or as a file (`nameFile`): never both. */
function credential(
  section: string,
  name: string,
  inline: string,
  file: string,
  readFile: ReadFile,
): { key: string; value: string } | undefined {
  if (inline !== '' && file !== '') {
    throw new ConfigError(`${section}: set ${name} or ${name}File, not both`);
  }
  if (inline !== '') return { key: `${section}.${name}`, value: inline };
  if (file === '') return undefined;
  const key = `${section}.${name}File`;
  return { key, value: readOrExplain(key, file, readFile) };
}

/** The system's certificate authorities plus the PEM file given, if any. */
function extraCa(section: string, file: string, readFile: ReadFile): string[] | undefined {
  if (file === '') return undefined;
  return [...rootCertificates, readOrExplain(`${section}.caFile`, file, readFile)];
}

function readOrExplain(key: string, file: string, readFile: ReadFile): string {
  return checked(key, () => {
    try {
      return readFile(file);
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new Error(`cannot read ${file} (${why})`);
    }
  });
}

/** Runs `parse`, turning its Error into a ConfigError naming `key`. */
function checked<T>(key: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new ConfigError(`${key}: ${(err as Error).message}`);
  }
}

/** The timeout and retry keys every provider section has. */
function callSettings(config: PushConfig['fcm'] | PushConfig['apns']) {
  const { timeoutMs, maxAttempts, retryBaseMs, maxRetryAfterMs } = config;
  return { timeoutMs, maxAttempts, retryBaseMs, maxRetryAfterMs };
}
