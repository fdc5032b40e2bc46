import websocket from '@fastify/websocket';
import type { IncomingMessage } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import type { Presence } from '../adapters/presence/presence.js';
import { AppError } from '../errors/app-error.js';
import { CommonErrors } from '../errors/common.errors.js';
import { reasonOf, toErrorAnswer } from '../http/error-handler.js';
import type { AuthContext, TokenService } from '../auth/token.service.js';
import type { Logger } from '../shared/logger.js';
import { AddressLimit } from './address-limit.js';
import { admit, type Admission } from './admission.js';
import { CloseCode } from './close-codes.js';
import { Connection, type ConnectionLimits, type FrameWire } from './connection.js';
import type { ConnectionRegistry } from './connection-registry.js';
import {
  FrameType,
  PONG,
  answerFrame,
  errorFrame,
  parseClientFrame,
  readFrameHead,
  type ClientFrame,
} from '../realtime/frame.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import type { WsContext, WsMethods } from './ws-method.js';

export interface GatewaySettings extends ConnectionLimits {
  path: string;
  maxFrameBytes: number;
  /** Requests a connection may have waiting before new ones are refused. */
  maxPendingRequests: number;
  maxConnectionsPerUser: number;
  /** Open sockets per client address; more upgrades get HTTP 429 (0 = no cap). */
  maxConnectionsPerAddress: number;
}

export interface GatewayDeps {
  settings: GatewaySettings;
  tokens: TokenService;
  presence: Presence;
  registry: ConnectionRegistry;
  methods: WsMethods;
  /** Methods only the server sends (e.g. "push"); a client sending one is refused. */
  serverOnlyMethods: ReadonlySet<string>;
  metrics: GatewayMetrics;
  logger: Logger;
  /**
   * Called once presence is updated, when a user's first connection on this gateway
   * opened or its last one closed (to tell the user's friends).
   */
  onPresenceChange?: (userId: string) => void;
}

/** Rate-limit violations in a row after which the socket is closed instead of answered. */
const MAX_RATE_VIOLATIONS = 50;

/**
 * Registers `GET /ws` on the HTTP server (same port). The token is checked and
 * the socket registered in presence during the upgrade request, before the 101
 * answer, and locally as soon as the socket exists (in the same tick as the 101):
 * by the time a client sees `open`, pushes reach it. A missing or bad token still
 * gets its upgrade, then a 4001 close with the reason (browsers can read a close
 * reason, never a refused upgrade's body); a dependency that is down (the token
 * denylist in Redis, say) refuses the upgrade with a 503 envelope, and the client
 * retries as after any network failure.
 */
export async function registerGateway(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  const { settings, registry, metrics } = deps;
  await app.register(websocket, {
    options: {
      // Frames above the soft limit get an error frame; the hard cap (ws closes with 1009)
      // only bounds what one frame can make the server buffer.
      maxPayload: settings.maxFrameBytes * 2,
      // Browsers may send the token as a subprotocol; the handshake must echo one back.
      handleProtocols: (protocols) => protocols.values().next().value ?? false,
    },
    preClose(done) {
      registry.closeAll(CloseCode.goingAway, 'server shutting down');
      done();
    },
  });

  const perAddress = new AddressLimit(settings.maxConnectionsPerAddress);
  // Refused before the upgrade, so the client reads an HTTP 429 envelope.
  const capAddress = async (request: FastifyRequest) => {
    if (request.ws && !perAddress.admit(request.ip, request.raw.socket)) {
      request.log.info({ address: request.ip }, 'websocket refused: address at its cap');
      throw new AppError(CommonErrors.tooManyRequests, 'too many connections from this address');
    }
  };

  const admissions = new WeakMap<IncomingMessage, Admission>();
  app.get(
    settings.path,
    {
      websocket: true,
      onRequest: capAddress,
      preValidation: async (request) => {
        if (request.ws) admissions.set(request.raw, await admit(request, deps));
      },
    },
    (socket, request) => {
      const admission = admissions.get(request.raw);
      admissions.delete(request.raw);
      socket.on('error', (err) => request.log.debug({ err }, 'websocket error'));
      if (!admission?.auth) {
        metrics.closes.inc({ code: String(CloseCode.unauthorized) });
        socket.close(CloseCode.unauthorized, admission?.refused ?? 'unauthorized');
        return;
      }
      admission.claimed = true;
      const session = new Session(
        socket,
        // The TCP socket the upgrade came on, which `ws` writes its frames to.
        request.raw.socket,
        admission.auth,
        admission.connectionId,
        deps,
        request.log,
      );
      socket.on('message', (raw, isBinary) => session.receive(raw, isBinary));
    },
  );
}

/**
 * One authenticated socket's life: local registration, frame handling and clean-up.
 * Requests of one connection run one at a time, so a client's sends are stored
 * in the order it sent them.
 */
class Session {
  private readonly connection: Connection;
  /** What every handler of this connection is told about its caller (the same each time). */
  private readonly context: WsContext;
  /** Requests received and not yet started, in arrival order. */
  private readonly waiting: ClientFrame[] = [];
  /** Whether a request is running (the loop in `runWaiting`). */
  private running = false;
  /** The request whose handler's promise is pending (one at a time). */
  private current: ClientFrame | undefined;
  /** The reactions to that promise, made once per connection rather than per request. */
  private readonly answered = (result: unknown): void => this.settle(true, result);
  private readonly failed = (err: unknown): void => this.settle(false, err);
  private rateViolations = 0;

  constructor(
    socket: WebSocket,
    wire: FrameWire | undefined,
    auth: AuthContext,
    connectionId: string,
    private readonly deps: GatewayDeps,
    private readonly log: FastifyBaseLogger,
  ) {
    const { registry, settings } = deps;
    this.connection = new Connection(
      socket,
      auth.userId,
      auth.jti,
      settings,
      // A client that cannot keep up is cut and reconnects: expected, not a server fault.
      () => log.info({ userId: auth.userId, connectionId }, 'slow consumer disconnected'),
      connectionId,
      wire,
    );
    this.context = { userId: auth.userId, connection: this.connection, log };
    this.connection.tokenIssuedAt = auth.iat;
    this.connection.expireAt(auth.exp * 1000);
    registry.add(this.connection);
    // Every socket's open and close at debug: per-connection detail, too many for info.
    log.debug({ userId: auth.userId, connectionId }, 'websocket open');
    // Presence already counts this connection (registered during the upgrade).
    if (registry.forUser(auth.userId).length === 1) deps.onPresenceChange?.(auth.userId);
    socket.once('close', (code) => this.closed(code));
  }

  receive(raw: RawData, isBinary: boolean): void {
    const { connection } = this;
    const { metrics, settings } = this.deps;
    connection.touch();
    if (!connection.allowFrame()) {
      metrics.framesIn.inc('rate_limited');
      this.rateViolations += 1;
      if (this.rateViolations > MAX_RATE_VIOLATIONS) {
        this.log.info(
          { userId: connection.userId, connectionId: connection.id },
          'websocket cut: frame rate limit exceeded',
        );
        connection.close(CloseCode.rateLimited, 'frame rate limit exceeded');
      } else {
        const { id, method } = readFrameHead(textOf(raw));
        connection.send(errorFrame(id, method, answerOf(CommonErrors.tooManyRequests)));
      }
      return;
    }
    this.rateViolations = 0;
    const size = Array.isArray(raw) ? raw.reduce((n, b) => n + b.length, 0) : raw.byteLength;
    if (isBinary) {
      this.reject('binary frames are not supported; send JSON text');
      return;
    }
    if (size > settings.maxFrameBytes) {
      metrics.framesIn.inc('too_large');
      // Not parsed, but its id is read so the client can tell which request failed
      // (so are those of rate-limited frames and frames that are not valid JSON).
      const head = readFrameHead(textOf(raw));
      connection.send(
        errorFrame(head.id, head.method, {
          code: CommonErrors.payloadTooLarge.code,
          msg: `frame larger than ${settings.maxFrameBytes} bytes`,
        }),
      );
      return;
    }
    const parsed = parseClientFrame(textOf(raw));
    if (!parsed.ok) {
      this.reject(parsed.reason, parsed.id, parsed.method);
      return;
    }
    const { frame } = parsed;
    if (frame.frameType === FrameType.ping) {
      metrics.framesIn.inc('ping');
      connection.send(PONG);
      return;
    }
    // A client acknowledging a push: accepted for compatibility; delivery is
    // repaired by sync, so nothing waits for it.
    if (frame.frameType === FrameType.ack) {
      metrics.framesIn.inc('ack');
      return;
    }
    this.enqueue(frame);
  }

  /**
   * Requests of one connection run one at a time, in arrival order. One loop runs them
   * while any are waiting: a request that finds nothing of this connection pending
   * starts at once, without a promise chained per frame.
   */
  private enqueue(frame: ClientFrame): void {
    const pending = this.waiting.length + (this.running ? 1 : 0);
    if (pending >= this.deps.settings.maxPendingRequests) {
      this.connection.send(
        errorFrame(frame.id, frame.method, answerOf(CommonErrors.tooManyRequests)),
      );
      return;
    }
    this.waiting.push(frame);
    if (!this.running) this.runWaiting();
  }

  /**
   * Runs the waiting requests in order until one's handler answers later: its promise
   * gets one reaction (`answered`/`failed`), which writes the answer and runs the loop
   * on. A request costs no async frame or promise of the gateway's own, and its answer
   * is written in the turn its handler's promise settles.
   */
  private runWaiting(): void {
    this.running = true;
    for (let frame = this.waiting.shift(); frame; frame = this.waiting.shift()) {
      let pending: Promise<unknown> | undefined;
      try {
        pending = this.dispatch(frame);
      } catch (err) {
        this.dispatchFailed(err, frame);
      }
      if (pending !== undefined) {
        this.current = frame;
        pending.then(this.answered, this.failed);
        return;
      }
    }
    this.running = false;
  }

  /** The pending request's answer (its result, or the error it failed with), then the next requests. */
  private settle(ok: boolean, value: unknown): void {
    const frame = this.current!;
    this.current = undefined;
    try {
      if (ok) this.answer(frame, value);
      else this.refuse(frame, value);
    } catch (err) {
      this.dispatchFailed(err, frame);
    }
    this.runWaiting();
  }

  /** dispatch answers a handler's failure itself; this is a bug of its own. */
  private dispatchFailed(err: unknown, frame: ClientFrame): void {
    this.log.error({ err, method: frame.method }, 'websocket request dispatch failed');
  }

  /**
   * Checks a request and starts its handler: the handler's promise, which `runWaiting`
   * answers when it settles; nothing when the request was refused or its handler
   * threw at once (answered here).
   */
  private dispatch(frame: ClientFrame): Promise<unknown> | undefined {
    const { methods, serverOnlyMethods, metrics } = this.deps;
    const { method } = frame;
    if (!method) {
      this.fail(frame, CommonErrors.badRequest.code, 'method is required');
      return undefined;
    }
    if (serverOnlyMethods.has(method)) {
      metrics.framesIn.inc('refused');
      this.fail(frame, CommonErrors.forbidden.code, `method ${method} is server-only`);
      return undefined;
    }
    const handler = Object.hasOwn(methods, method) ? methods[method] : undefined;
    if (!handler) {
      metrics.framesIn.inc('unknown_method');
      this.fail(frame, CommonErrors.notFound.code, `unknown method ${method}`);
      return undefined;
    }
    const data = frame.data ?? {};
    if (!handler.validator.Check(data)) {
      metrics.framesIn.inc('invalid');
      this.fail(frame, CommonErrors.badRequest.code, handler.invalidReason(data));
      return undefined;
    }
    metrics.framesIn.inc('request');
    try {
      return handler.handle(this.context, data);
    } catch (err) {
      this.refuse(frame, err);
      return undefined;
    }
  }

  /** A handler's result, as the request's answer. */
  private answer(frame: ClientFrame, result: unknown): void {
    if (frame.frameType !== FrameType.noAck) {
      this.connection.send(answerFrame(frame.id, frame.method, result ?? {}));
    }
  }

  /** A handler's failure, as the request's error frame. */
  private refuse(frame: ClientFrame, err: unknown): void {
    const { method } = frame;
    const { code, msg, status } = toErrorAnswer(err);
    if (status === 503) {
      this.log.warn(
        { code, method, reason: reasonOf(err) },
        'websocket request refused: unavailable',
      );
    } else if (status >= 500) {
      this.log.error({ err, method }, 'websocket request failed');
    }
    this.fail(frame, code, msg);
  }

  /** The error frame answering a request (none for a frame that asked for no answer). */
  private fail(frame: ClientFrame, code: number, msg: string): void {
    if (frame.frameType !== FrameType.noAck) {
      this.connection.send(errorFrame(frame.id, frame.method, { code, msg }));
    }
  }

  private reject(reason: string, id?: string, method?: string): void {
    this.deps.metrics.framesIn.inc('malformed');
    this.connection.send(
      errorFrame(id, method, { code: CommonErrors.badRequest.code, msg: reason }),
    );
  }

  private closed(code: number): void {
    const { registry, presence, metrics } = this.deps;
    this.connection.dispose();
    // A socket the server cut (slow consumer) reports 1006; count the reason we chose.
    metrics.closes.inc({ code: String(this.connection.closeCode ?? code) });
    registry.remove(this.connection);
    const { userId } = this.connection;
    this.log.debug(
      { userId, connectionId: this.connection.id, code: this.connection.closeCode ?? code },
      'websocket closed',
    );
    const last = registry.forUser(userId).length === 0;
    void presence.disconnected(userId, this.connection.id).then(
      () => {
        if (last) this.deps.onPresenceChange?.(userId);
      },
      (err: unknown) => this.log.error({ err }, 'presence update failed'),
    );
  }
}

/** ws hands text frames over as a Buffer, or fragments as a Buffer list. */
function textOf(raw: RawData): string {
  if (Buffer.isBuffer(raw)) return raw.toString('utf8');
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  return Buffer.from(raw).toString('utf8');
}

function answerOf(spec: { code: number; message: string }) {
  return { code: spec.code, msg: spec.message };
}
