import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import type { ErrorSpec } from '../errors/app-error.js';
import { CommonErrors } from '../errors/common.errors.js';

/** The answer for an error Node's HTTP parser raised before there was a request. */
function specOf(code: string | undefined): ErrorSpec {
  if (code === 'HPE_HEADER_OVERFLOW') return CommonErrors.headersTooLarge;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return CommonErrors.requestTimeout;
  return CommonErrors.badRequest;
}

/**
 * The HTTP response, as raw bytes, for a request the parser refused: a header block
 * over 16 KiB (a long URL counts) is 431, a request head or body that did not arrive
 * within server.headersTimeoutMs / requestTimeoutMs is 408, anything malformed
 * (a control character in a header, a broken request line) is 400. The body is the
 * usual envelope; the connection is closed after it.
 */
export function clientErrorResponse(code: string | undefined): string {
  const spec = specOf(code);
  const body = JSON.stringify({ code: spec.code, msg: spec.message, data: null });
  return (
    `HTTP/1.1 ${spec.status} ${STATUS_CODES[spec.status] ?? 'Error'}\r\n` +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}

/**
 * Node's `clientError` handler (Fastify's clientErrorHandler option): there is no
 * request or reply object yet, so the answer is written to the socket directly,
 * unless a response is already under way on it (then it is only closed).
 */
export function handleClientError(
  this: { log: FastifyBaseLogger },
  err: NodeJS.ErrnoException,
  socket: Socket,
): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  this.log.debug({ err: { code: err.code, message: err.message } }, 'client error');
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  socket.end(clientErrorResponse(err.code), () => socket.destroy());
  // A peer that does not read never lets the answer drain: cut it anyway.
  setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
}

const CLOSE_GRACE_MS = 2_000;
