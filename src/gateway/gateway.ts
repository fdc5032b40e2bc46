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
import type { Placed, WsContext, WsMethods } from './ws-method.js';

export interface GatewaySettings extends ConnectionLimits {
  path: string;
  maxFrameBytes: number;
  /** Requests a connection may have received and not answered (running or waiting) before new ones are refused. */
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
 * Requests of one connection take effect in the order they came and are answered in
 * that order: each runs alone, except that requests of overlapping methods (sends)
 * run side by side once each earlier one has taken its place (WsMethod.overlaps), so
 * a client's sends are stored in the order it sent them without a commit apiece.
 */
class Session {
  private readonly connection: Connection;
  /** What every handler of this connection is told about its caller (the same each time). */
  private readonly context: WsContext;
  /** Requests received and not yet started, in arrival order. */
  private readonly waiting: ClientFrame[] = [];
  /** Requests started and not yet answered, in arrival order (answered from the front). */
  private readonly running: RunningRequest[] = [];
  /** `runWaiting` is starting requests (a handler's `placed` needs no call of its own). */
  private starting = false;
  /**
   * The reactions to the promise of a request started with nothing else running, made
   * once per connection: that request stays first in `running` until it is answered,
   * so they settle `running[0]`. Only requests started beside others get their own.
   */
  private readonly firstAnswered = (result: unknown): void =>
    this.settle(this.running[0]!, true, result);
  private readonly firstFailed = (err: unknown): void => this.settle(this.running[0]!, false, err);
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
   * Requests of one connection take effect in arrival order: a request starts once every
   * earlier one has been answered, or, for methods that overlap (WsMethod.overlaps),
   * once every earlier one is of such a method and has taken its place. A request that
   * finds nothing of this connection pending starts at once.
   */
  private enqueue(frame: ClientFrame): void {
    const pending = this.waiting.length + this.running.length;
    if (pending >= this.deps.settings.maxPendingRequests) {
      this.connection.send(
        errorFrame(frame.id, frame.method, answerOf(CommonErrors.tooManyRequests)),
      );
      return;
    }
    this.waiting.push(frame);
    this.runWaiting();
  }

  /**
   * Starts the waiting requests that may start now, in order. A request costs no async
   * frame or promise of the gateway's own, and its answer is written in the turn its
   * handler's promise settles (or, when an earlier request is still running, in the turn
   * that one's is).
   */
  private runWaiting(): void {
    if (this.starting) return;
    this.starting = true;
    try {
      while (this.waiting.length > 0) {
        const frame = this.waiting[0]!;
        const overlaps = this.overlaps(frame);
        if (!this.mayStart(overlaps)) break;
        this.waiting.shift();
        this.start(frame, overlaps);
      }
    } finally {
      this.starting = false;
    }
  }

  /**
   * Whether a request (of an overlapping method or not) may start beside the requests
   * running. Only the last one started is asked: a request starts beside others only if
   * they all overlap and have taken their place, so the ones before the last did when it
   * started, and stay so.
   */
  private mayStart(overlaps: boolean): boolean {
    const last = this.running[this.running.length - 1];
    if (last === undefined) return true;
    return overlaps && last.overlaps && last.placed;
  }

  /** Whether the frame's method lets its requests overlap (unknown methods do not). */
  private overlaps(frame: ClientFrame): boolean {
    const { methods } = this.deps;
    const { method } = frame;
    return (
      method !== undefined && Object.hasOwn(methods, method) && methods[method]!.overlaps === true
    );
  }

  private start(frame: ClientFrame, overlaps: boolean): void {
    const request = new RunningRequest(this, frame, overlaps);
    this.running.push(request);
    let pending: Promise<unknown> | undefined;
    try {
      pending = this.dispatch(request);
    } catch (err) {
      // A bug of the gateway's own: logged, and the request gets no answer.
      this.dispatchFailed(err, frame);
      request.finish(true, NO_ANSWER);
    }
    if (pending === undefined) {
      // Refused, or its handler threw at once: its error frame goes out in order.
      this.answerInOrder();
    } else if (this.running[0] === request) {
      pending.then(this.firstAnswered, this.firstFailed);
    } else {
      pending.then(
        (result: unknown) => this.settle(request, true, result),
        (err: unknown) => this.settle(request, false, err),
      );
    }
  }

  /** An overlapping request took its place: the requests waiting behind it may start. */
  place(request: RunningRequest): void {
    if (request.placed) return;
    request.placed = true;
    // Inside runWaiting (a handler that placed its request at once), its loop goes on.
    this.runWaiting();
  }

  /** A running request's handler settled: the answers now due, then what may start. */
  private settle(request: RunningRequest, ok: boolean, value: unknown): void {
    request.finish(ok, value);
    this.answerInOrder();
    this.runWaiting();
  }

  /** Writes the answers of the finished requests at the front, in arrival order. */
  private answerInOrder(): void {
    const { running } = this;
    while (running.length > 0 && running[0]!.done) {
      const request = running.shift()!;
      const { frame, ok, value } = request;
      try {
        if (value === NO_ANSWER) continue;
        if (value instanceof Refusal) this.fail(frame, value.code, value.msg);
        else if (ok) this.answer(frame, value);
        else this.refuse(frame, value);
      } catch (err) {
        this.dispatchFailed(err, frame);
      }
    }
  }

  /** A failure of the gateway's own (starting a request, writing its answer), not a handler's. */
  private dispatchFailed(err: unknown, frame: ClientFrame): void {
    this.log.error({ err, method: frame.method }, 'websocket request dispatch failed');
  }

  /**
   * Checks a request and starts its handler: the handler's promise (`start` reacts to
   * it); nothing when the request was refused or its handler threw at once, the request
   * then finished with its refusal or error (answered in order by answerInOrder).
   */
  private dispatch(request: RunningRequest): Promise<unknown> | undefined {
    const { methods, serverOnlyMethods, metrics } = this.deps;
    const { frame } = request;
    const { method } = frame;
    if (!method) {
      request.finish(false, new Refusal(CommonErrors.badRequest.code, 'method is required'));
      return undefined;
    }
    if (serverOnlyMethods.has(method)) {
      metrics.framesIn.inc('refused');
      request.finish(
        false,
        new Refusal(CommonErrors.forbidden.code, `method ${method} is server-only`),
      );
      return undefined;
    }
    const handler = Object.hasOwn(methods, method) ? methods[method] : undefined;
    if (!handler) {
      metrics.framesIn.inc('unknown_method');
      request.finish(false, new Refusal(CommonErrors.notFound.code, `unknown method ${method}`));
      return undefined;
    }
    const data = frame.data ?? {};
    if (!handler.validator.Check(data)) {
      metrics.framesIn.inc('invalid');
      request.finish(false, new Refusal(CommonErrors.badRequest.code, handler.invalidReason(data)));
      return undefined;
    }
    metrics.framesIn.inc('request');
    try {
      return handler.handle(this.context, data, request.place);
    } catch (err) {
      request.finish(false, err);
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

/** A request refused before its handler ran: its error frame's code and message. */
class Refusal {
  constructor(
    readonly code: number,
    readonly msg: string,
  ) {}
}

/** A request that gets no answer (the gateway failed to start it, and logged why). */
const NO_ANSWER = Symbol('no answer');

/** A request of a connection that has started and is not answered yet (Session.running). */
class RunningRequest {
  /** It is finished (its handler settled, or it was refused): its answer is known. */
  done = false;
  /** Its order-sensitive work has taken its place (its handler said so, or it finished). */
  placed = false;
  ok = false;
  /** Its handler's result or error, a Refusal, or NO_ANSWER. */
  value: unknown;
  /** Given to an overlapping method's handler (WsMethod.handle); none for other methods. */
  readonly place: Placed | undefined;

  constructor(
    session: Session,
    readonly frame: ClientFrame,
    /** Its method overlaps (WsMethod.overlaps). */
    readonly overlaps: boolean,
  ) {
    this.place = overlaps ? () => session.place(this) : undefined;
  }

  finish(ok: boolean, value: unknown): void {
    this.done = true;
    this.placed = true;
    this.ok = ok;
    this.value = value;
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
