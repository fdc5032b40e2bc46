import { defineErrors } from '../errors/app-error.js';

/** Event layer errors (5xxxxx): ingestion and dead letters; the admin credential's are in auth/admin.errors.ts. */
export const EventErrors = defineErrors({
  signatureInvalid: {
    code: 500001,
    status: 401,
    message: 'event signature missing or invalid',
  },
  timestampOutOfWindow: {
    code: 500002,
    status: 400,
    message: 'event timestamp is outside the accepted window',
  },
  eventReplayed: { code: 500003, status: 409, message: 'event id was already received' },
  unknownEventType: { code: 500004, status: 400, message: 'no handler for this event type' },
  payloadInvalid: { code: 500005, status: 400, message: 'event payload is invalid' },
  typeNotAllowed: {
    code: 500007,
    status: 403,
    message: 'this source may not send this event type',
  },
  handlerUnavailable: {
    code: 500008,
    status: 503,
    message: 'the handler for this event type is not available on this server',
  },
  eventRejected: { code: 500010, status: 422, message: 'the event was refused by its handler' },
  queueUnknown: { code: 500011, status: 404, message: 'no such queue' },
});
