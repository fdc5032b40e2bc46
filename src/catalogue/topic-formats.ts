import { jsonCodec, WireFormats } from '../adapters/bus/codec.js';
import { ProtobufCodec } from '../adapters/bus/protobuf-codec.js';
import type { Config } from '../config/config.schema.js';
import { LOG_TOPIC } from '../modules/audit/log.events.js';
import { LogProtoMappings } from '../modules/audit/log.protobuf.js';
import { NOTIFY_TOPIC } from '../modules/notify/notify.events.js';
import { NotifyProtoMappings } from '../modules/notify/notify.protobuf.js';

/** The protobuf codec of each topic that has one (the Go system's messages). */
export const PROTOBUF_CODECS = {
  [NOTIFY_TOPIC]: new ProtobufCodec(NotifyProtoMappings),
  [LOG_TOPIC]: new ProtobufCodec(LogProtoMappings),
} as const;

/**
 * The wire format of the notify and log topics from `bus.topics`: the name on the
 * broker and the codec easy-chat writes. Both topics read JSON and protobuf
 * whatever is configured (by content type), so switching codec loses nothing in
 * flight. Other topics (`domain`) keep their name and JSON.
 */
export function topicFormats(topics: Config['bus']['topics']): WireFormats {
  const format = (
    topic: keyof typeof PROTOBUF_CODECS,
    wire: Config['bus']['topics']['notify'],
  ) => ({
    name: wire.name,
    codec: wire.codec === 'protobuf' ? PROTOBUF_CODECS[topic] : jsonCodec,
    reads: [PROTOBUF_CODECS[topic]],
  });
  return new WireFormats({
    [NOTIFY_TOPIC]: format(NOTIFY_TOPIC, topics.notify),
    [LOG_TOPIC]: format(LOG_TOPIC, topics.log),
  });
}
