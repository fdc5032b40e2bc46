import { defineErrors } from './app-error.js';

/** Codes shared by every module (1xxxxx). 100001–100004 keep the Go system's meaning. */
export const CommonErrors = defineErrors({
  serverError: { code: 100001, status: 500, message: 'internal server error' },
  badRequest: { code: 100002, status: 400, message: 'invalid request parameter' },
  unauthorized: { code: 100003, status: 401, message: 'token missing, invalid or expired' },
  databaseBusy: { code: 100004, status: 503, message: 'database busy, try again later' },
  notFound: { code: 100005, status: 404, message: 'not found' },
  payloadTooLarge: { code: 100006, status: 413, message: 'request body too large' },
  tooManyRequests: { code: 100007, status: 429, message: 'too many requests' },
  forbidden: { code: 100008, status: 403, message: 'forbidden' },
  unsupportedMediaType: { code: 100009, status: 415, message: 'unsupported content type' },
  shuttingDown: { code: 100010, status: 503, message: 'server is shutting down' },
  dependencyUnavailable: { code: 100011, status: 503, message: 'a backing service is unavailable' },
  headersTooLarge: {
    code: 100012,
    status: 431,
    message: 'request line and headers larger than 16 KiB',
  },
  requestTimeout: {
    code: 100013,
    status: 408,
    message: 'the request did not arrive in time',
  },
  methodNotAllowed: {
    code: 100014,
    status: 405,
    message: 'this path does not answer this method (see the Allow header)',
  },
});
