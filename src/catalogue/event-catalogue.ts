import type { TSchema } from 'typebox';
import { DomainEventSchemas } from './domain-events.js';
import { AUDIT_CONSUMER_SPECS } from '../modules/audit/audit.consumer.js';
import { builtInIngestHandlers } from '../modules/ingest/ingest.handlers.js';
import { LogEventSchemas } from '../modules/audit/log.events.js';
import { NOTIFY_CONSUMER_SPECS } from '../modules/notify/notify.consumer.js';
import { NotifyEventSchemas } from '../modules/notify/notify.events.js';
import { PROTOBUF_CODECS } from './topic-formats.js';

/** Which module produces a domain event, by its aggregate. */
const PRODUCER_BY_AGGREGATE: Record<string, string> = {
  user: 'user module',
  social: 'social module',
  chat: 'im module',
  system: 'event module',
};

/** The event layer's durable consumers (audit log and notifications). */
export const EVENT_LAYER_CONSUMERS: ReadonlyArray<{
  queue: string;
  topic: string;
  types: readonly string[];
}> = [...Object.values(AUDIT_CONSUMER_SPECS), ...Object.values(NOTIFY_CONSUMER_SPECS)];

function consumersOf(topic: string, type: string): string {
  const queues = EVENT_LAYER_CONSUMERS.filter(
    (c) => c.topic === topic && c.types.includes(type),
  ).map((c) => `\`${c.queue}\``);
  return queues.length > 0 ? queues.join(', ') : '–';
}

/** A compact TypeScript-like rendering of a TypeBox schema for tables. */
export function renderSchema(schema: TSchema): string {
  const s = schema as Record<string, unknown>;
  if (Array.isArray(s.anyOf)) return (s.anyOf as TSchema[]).map(renderSchema).join(' \\| ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  switch (s.type) {
    case 'string':
      return 'string';
    case 'integer':
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array':
      return `${renderSchema(s.items as TSchema)}[]`;
    case 'object': {
      if (s.patternProperties) {
        const [value] = Object.values(s.patternProperties as Record<string, TSchema>);
        return `{[k: string]: ${value ? renderSchema(value) : 'unknown'}}`;
      }
      const required = new Set((s.required as string[] | undefined) ?? []);
      const props = Object.entries((s.properties as Record<string, TSchema> | undefined) ?? {});
      return `{${props.map(([k, v]) => `${k}${required.has(k) ? '' : '?'}: ${renderSchema(v)}`).join(', ')}}`;
    }
    default:
      return 'unknown';
  }
}

const code = (text: string) => `\`${text}\``;

/** Renders docs/events.md from the typed maps and consumer specs (a test keeps it current). */
export function renderEventDocs(): string {
  const domain = Object.entries(DomainEventSchemas).map(
    ([type, def]) =>
      `| ${code(type)} | ${def.aggregate} | ${PRODUCER_BY_AGGREGATE[def.aggregate] ?? '?'} | ${code(renderSchema(def.payload))} | ${consumersOf('domain', type)} |`,
  );
  const produced = new Set(Object.keys(DomainEventSchemas));
  const awaited = AUDIT_CONSUMER_SPECS.userActions.types
    .filter((t) => !produced.has(t))
    .map((t) => code(t));
  const simple = (topic: keyof typeof PROTOBUF_CODECS, map: Record<string, { payload: TSchema }>) =>
    Object.entries(map).map(
      ([type, def]) =>
        `| ${code(type)} | ${code(renderSchema(def.payload))} | ${code(PROTOBUF_CODECS[topic].messageName(type) ?? '?')} | ${consumersOf(topic, type)} |`,
    );
  const handlers = builtInIngestHandlers({
    users: { disable: async () => {} },
    systemNotices: undefined,
  });
  const ingested = handlers.map(
    (h) => `| ${code(h.type)} | ${code(renderSchema(h.payload))} | ${h.description} |`,
  );
  return [
    '# Event catalogue',
    '',
    'Every event type the system carries, with its payload, who produces it and which',
    'durable queues consume it. How the layer works (broker, outbox relay, consumers,',
    'ingestion) is in [event-layer.md](event-layer.md).',
    '',
    '<!-- Generated from the typed event maps by `npm run docs`; do not edit by hand. -->',
    '',
    '## Domain events (topic `domain`, through the outbox)',
    '',
    'Envelope: `{id, type, aggregate, timestamp, payload, metadata: {source, version, traceId?}}`.',
    'Recorded in the transaction of the change and published by the outbox relay, keyed',
    '(ordered) by the aggregate id.',
    '',
    '| type | aggregate | producer | payload | consumers |',
    '| --- | --- | --- | --- | --- |',
    ...domain,
    '',
    `Audited as soon as their producer lands (mapped in \`user-action-map.ts\`): ${awaited.length > 0 ? awaited.join(', ') : 'none'}.`,
    '',
    '## Notification requests (topic `notify`, sent directly)',
    '',
    'Keyed `{topic}:{type}`. With `bus.topics.<topic>.codec: protobuf` the payload travels as the',
    "Go system's protobuf message named here (proto/easychat/mq/v1/), the envelope in its fields",
    '100-103; see "Protobuf payloads" in event-layer.md.',
    '',
    '| type | payload | protobuf message | consumers |',
    '| --- | --- | --- | --- |',
    ...simple('notify', NotifyEventSchemas),
    '',
    '## Log records (topic `log`, sent directly)',
    '',
    'Keyed and encoded like the notification requests.',
    '',
    '| type | payload | protobuf message | consumers |',
    '| --- | --- | --- | --- |',
    ...simple('log', LogEventSchemas),
    '',
    '## Ingested events (`POST /v1/events`)',
    '',
    '| event_type | payload | effect |',
    '| --- | --- | --- |',
    ...ingested,
    '',
  ].join('\n');
}
