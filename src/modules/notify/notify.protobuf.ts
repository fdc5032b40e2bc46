import {
  protoMapping,
  seedUserId,
  userIdOf,
  type ProtoMapping,
} from '../../adapters/bus/protobuf-codec.js';
import {
  EmailNotifyReqSchema,
  PushNotifyReqSchema,
  SMSNotifyReqSchema,
} from '../../gen/proto/easychat/mq/v1/notify_pb.js';
import { NotifyEventSchemas, type NotifyEventMap } from './notify.events.js';

/**
 * The notify events as the Go system's messages (proto/easychat/mq/v1/notify.proto),
 * for `bus.topics.notify.codec: protobuf`. Field names differ where the Go system
 * named them otherwise: `text` is `content`, `phone` is `mobile`, a push's `body` is
 * `message`, and the user id travels as `uid` (easy-chat's string id) next to the
 * Go system's numeric `user_id`.
 */
export const NotifyProtoMappings: Record<keyof NotifyEventMap, ProtoMapping> = {
  'notify.email': protoMapping<NotifyEventMap['notify.email'], typeof EmailNotifyReqSchema>({
    message: EmailNotifyReqSchema,
    payload: NotifyEventSchemas['notify.email'].payload,
    toMessage: (p) => ({ to: p.to, subject: p.subject, content: p.text, html: p.html ?? '' }),
    fromMessage: (m) => ({
      to: m.to,
      subject: m.subject,
      text: m.content,
      ...(m.html ? { html: m.html } : {}),
    }),
  }),
  'notify.sms': protoMapping<NotifyEventMap['notify.sms'], typeof SMSNotifyReqSchema>({
    message: SMSNotifyReqSchema,
    payload: NotifyEventSchemas['notify.sms'].payload,
    toMessage: (p) => ({ mobile: p.phone, template: p.template, params: p.params }),
    fromMessage: (m) => ({ phone: m.mobile, template: m.template, params: { ...m.params } }),
  }),
  'notify.push': protoMapping<NotifyEventMap['notify.push'], typeof PushNotifyReqSchema>({
    message: PushNotifyReqSchema,
    payload: NotifyEventSchemas['notify.push'].payload,
    toMessage: (p) => ({
      userId: seedUserId(p.userId),
      uid: p.userId,
      title: p.title,
      message: p.body,
      data: p.data ?? {},
      collapseKey: p.collapseKey ?? '',
    }),
    fromMessage: (m) => {
      const userId = userIdOf(m);
      if (!userId) throw new Error('names no user (uid and user_id are empty)');
      return {
        userId,
        title: m.title,
        body: m.message,
        ...(Object.keys(m.data).length > 0 ? { data: { ...m.data } } : {}),
        ...(m.collapseKey ? { collapseKey: m.collapseKey } : {}),
      };
    },
  }),
};
