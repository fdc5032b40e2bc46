import { Type } from 'typebox';
import { EmptyObject, EnvelopeOf } from '../../http/envelope.js';

/** An opaque id (users, groups and requests are ULIDs today). */
export const Id = Type.String({ minLength: 1, maxLength: 32 });

/** The greeting sent with a friend or group request. */
export const ReqMsg = Type.String({ maxLength: 255 });

/** `{onlineList: {uid: true}}`: only online users are listed. */
export const OnlineResponse = EnvelopeOf(
  Type.Object({ onlineList: Type.Record(Type.String(), Type.Boolean()) }),
);

export const EmptyResponse = EnvelopeOf(EmptyObject);

export const tags = ['social'];
export const security = [{ bearer: [] }];
