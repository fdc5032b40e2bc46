import {
  protoMapping,
  seedUserId,
  userIdOf,
  type ProtoMapping,
} from '../../adapters/bus/protobuf-codec.js';
import {
  APIErrorLogReqSchema,
  UserActionLogReqSchema,
} from '../../gen/proto/easychat/mq/v1/log_pb.js';
import { LogEventSchemas, type LogEventMap } from './log.events.js';

/**
 * The log events as the Go system's messages (proto/easychat/mq/v1/log.proto), for
 * `bus.topics.log.codec: protobuf`. An action's `detail` object travels as JSON
 * text (the Go field is a string; free text from a Go producer is kept as
 * `{"text": ...}`); an API error's internal `message` is the Go field `error`. Empty
 * strings and zeros are what proto3 sends for "not set": they map to absent fields.
 */
export const LogProtoMappings: Record<keyof LogEventMap, ProtoMapping> = {
  'log.user_action': protoMapping<LogEventMap['log.user_action'], typeof UserActionLogReqSchema>({
    message: UserActionLogReqSchema,
    payload: LogEventSchemas['log.user_action'].payload,
    toMessage: (p) => ({
      userId: seedUserId(p.userId),
      uid: p.userId ?? '',
      action: p.action,
      detail: JSON.stringify(p.detail),
      targetId: p.targetId ?? '',
      requestId: p.requestId ?? '',
    }),
    fromMessage: (m) => ({
      userId: userIdOf(m) || null,
      action: m.action,
      detail: detailOf(m.detail),
      ...(m.targetId ? { targetId: m.targetId } : {}),
      ...(m.requestId ? { requestId: m.requestId } : {}),
    }),
  }),
  'log.api_error': protoMapping<LogEventMap['log.api_error'], typeof APIErrorLogReqSchema>({
    message: APIErrorLogReqSchema,
    payload: LogEventSchemas['log.api_error'].payload,
    toMessage: (p) => ({
      path: p.path,
      method: p.method,
      error: p.message,
      requestId: p.requestId,
      route: p.route ?? '',
      status: p.status,
      code: p.code,
      uid: p.userId ?? '',
    }),
    fromMessage: (m) => {
      if (!m.path || !m.method) throw new Error('path and method are required');
      return {
        requestId: m.requestId,
        method: m.method,
        path: m.path,
        ...(m.route ? { route: m.route } : {}),
        status: m.status,
        code: m.code,
        message: m.error,
        ...(m.uid ? { userId: m.uid } : {}),
      };
    },
  }),
};

/** A detail string as the object the audit row stores. */
function detailOf(text: string): Record<string, unknown> {
  if (text === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>;
    }
  } catch {
    // Free text, as a Go producer writes it.
  }
  return { text };
}
