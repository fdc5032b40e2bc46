import { backoffDelay, type BackoffOptions } from './backoff.js';
import { Emitter } from './emitter.js';
import { ApiError, DisconnectedError, ErrorCode, TimeoutError } from './errors.js';
import { FrameType, type Frame, type WsMethods } from './types.js';

/** The part of the WebSocket API the SDK uses (browsers' WebSocket and the `ws` package have it). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/**
 * A WebSocket constructor: the global one in browsers and Node 22+, or `ws`'s
 * default export in Node 20 (`import WebSocket from 'ws'`).
 */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => object;

/** Close codes the gateway uses (docs/websocket.md). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  tooBig: 1009,
  idleTimeout: 4000,
  unauthorized: 4001,
  disabled: 4003,
  slowConsumer: 4008,
  replaced: 4009,
  rateLimited: 4029,
} as const;

export type SocketState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface SocketStateChange {
  state: SocketState;
  /** For 'reconnecting': the attempt number (0 first) and the wait before it. */
  attempt?: number;
  delayMs?: number;
  /** For 'reconnecting' and 'closed': why the last socket closed. */
  code?: number;
  reason?: string;
}

export interface SocketEvents extends Record<string, unknown> {
  state: SocketStateChange;
  /** The socket is authenticated and registered: pushes flow from now on. */
  open: { generation: number };
  /** A server frame that is not an answer (pushes and other server events). */
  frame: Frame;
  /** The server refused the token (close 4001); the socket will not reconnect. */
  authError: ApiError;
}

export interface ChatSocketOptions {
  /** ws:// or wss:// URL of the gateway, e.g. ws://localhost:8080/ws. */
  url: string;
  /** The current token (read on every connect, so a new login takes effect). */
  token: () => string | null;
  WebSocket: WebSocketConstructor;
  /** Answer timeout of a request; default 10 s. */
  requestTimeoutMs?: number;
  /** How long to wait for the socket to open and authenticate; default 10 s. */
  connectTimeoutMs?: number;
  /** Ping period (the server closes sockets silent for 60 s); default 25 s. */
  pingIntervalMs?: number;
  /** A ping unanswered for this long means the connection is dead; default 10 s. */
  pongTimeoutMs?: number;
  reconnect?: BackoffOptions;
  /** Source of randomness for jitter (tests pass a fixed one). */
  random?: () => number;
}

interface Pending {
  resolve: (data: unknown) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

const OPEN = 1;

/**
 * One logical connection to the gateway that survives socket losses: requests
 * answered by id with timeouts, a ping keepalive that detects dead sockets, and
 * reconnection with exponential backoff and jitter. Close 4001 (token refused),
 * 4003 (account disabled) and 4009 (replaced by a newer device) stop it; any other
 * close reconnects.
 */
export class ChatSocket extends Emitter<SocketEvents> {
  private socket: WebSocketLike | undefined;
  private stateValue: SocketState = 'idle';
  private generation = 0;
  private attempt = 0;
  private nextId = 0;
  private readonly pending = new Map<string, Pending>();
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private pongTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly options: Required<Omit<ChatSocketOptions, 'reconnect'>> & {
    reconnect: BackoffOptions;
  };
  private readonly onBrowserOnline = () => {
    if (this.stateValue === 'reconnecting') this.reconnectNow();
  };

  constructor(options: ChatSocketOptions) {
    super();
    this.options = {
      requestTimeoutMs: 10_000,
      connectTimeoutMs: 10_000,
      pingIntervalMs: 25_000,
      pongTimeoutMs: 10_000,
      random: Math.random,
      reconnect: {},
      ...options,
    };
  }

  get state(): SocketState {
    return this.stateValue;
  }

  /** The answer timeout of requests. */
  get requestTimeoutMs(): number {
    return this.options.requestTimeoutMs;
  }

  /** Changes with every socket; events of an older socket are ignored. */
  get currentGeneration(): number {
    return this.generation;
  }

  /** Whether requests can be sent now (open and authenticated). */
  get isOpen(): boolean {
    // A socket the server is closing is not open, although its close event is still to come.
    return this.stateValue === 'open' && this.socket?.readyState === OPEN;
  }

  /** Starts connecting (and reconnecting after losses) until close() is called. */
  connect(): void {
    if (this.stateValue === 'connecting' || this.stateValue === 'open') return;
    clearTimeout(this.reconnectTimer);
    this.attempt = 0;
    listenOnline(this.onBrowserOnline, true);
    this.open();
  }

  /** Closes the socket and stops reconnecting. */
  close(): void {
    clearTimeout(this.reconnectTimer);
    listenOnline(this.onBrowserOnline, false);
    const socket = this.socket;
    this.teardown(new DisconnectedError('connection closed by the client'));
    if (socket) socket.close(CloseCode.normal, 'client closed');
    if (this.stateValue !== 'closed') this.setState({ state: 'closed', code: CloseCode.normal });
  }

  /** Skips the backoff wait and reconnects now (e.g. when the browser comes back online). */
  reconnectNow(): void {
    if (this.stateValue !== 'reconnecting') return;
    clearTimeout(this.reconnectTimer);
    this.open();
  }

  /**
   * Sends a request and resolves with the answer's data; rejects with ApiError on
   * an error frame, TimeoutError without an answer in time, DisconnectedError when
   * the socket is not open or closes first.
   */
  request<M extends keyof WsMethods>(
    method: M,
    data: WsMethods[M]['data'],
    timeoutMs = this.options.requestTimeoutMs,
  ): Promise<WsMethods[M]['answer']> {
    const socket = this.socket;
    if (!socket || this.stateValue !== 'open' || socket.readyState !== OPEN) {
      return Promise.reject(new DisconnectedError('not connected'));
    }
    this.nextId += 1;
    const id = `c${this.nextId}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new TimeoutError(`${method}: no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: resolve as (data: unknown) => void,
        reject,
        timer,
      });
      try {
        socket.send(JSON.stringify({ frameType: FrameType.data, id, method, data }));
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new DisconnectedError(`send failed: ${String(err)}`));
      }
    });
  }

  private open(): void {
    this.teardown(new DisconnectedError('reconnecting'));
    const token = this.options.token();
    if (!token) {
      this.emit('authError', new ApiError(ErrorCode.unauthorized, 'token missing'));
      this.setState({ state: 'closed', code: CloseCode.unauthorized, reason: 'token missing' });
      return;
    }
    this.generation += 1;
    const generation = this.generation;
    this.setState({ state: 'connecting' });
    let socket: WebSocketLike;
    try {
      // The token travels as a subprotocol: browsers cannot set headers, and it stays out of URLs.
      socket = new this.options.WebSocket(this.options.url, [
        'bearer',
        token,
      ]) as unknown as WebSocketLike;
    } catch (err) {
      this.lost(generation, 1006, `cannot open: ${String(err)}`);
      return;
    }
    this.socket = socket;
    const current = () => generation === this.generation;
    this.connectTimer = setTimeout(() => {
      if (!current()) return;
      try {
        socket.close(CloseCode.normal, 'connect timeout');
      } catch {
        // already closing
      }
      this.lost(generation, 1006, 'connect timeout');
    }, this.options.connectTimeoutMs);

    socket.onopen = () => {
      // The server authenticates and registers a socket before its upgrade completes;
      // a refused token still gets the upgrade, then a 4001 close. So the first frame
      // back (the pong) means this socket is accepted: pushes flow from here on.
      if (current()) socket.send(JSON.stringify({ frameType: FrameType.ping }));
    };
    socket.onmessage = (event) => {
      if (!current()) return;
      const frame = parseFrame(event.data);
      if (!frame) return;
      clearTimeout(this.pongTimer);
      this.pongTimer = undefined;
      if (this.stateValue === 'connecting') this.authenticated(generation);
      this.receive(frame);
    };
    socket.onerror = () => undefined; // the close event that follows does the work
    socket.onclose = (event) => {
      if (!current()) return;
      this.lost(generation, event.code, event.reason);
    };
  }

  private authenticated(generation: number): void {
    clearTimeout(this.connectTimer);
    this.attempt = 0;
    this.setState({ state: 'open' });
    this.pingTimer = setInterval(() => this.ping(generation), this.options.pingIntervalMs);
    this.emit('open', { generation });
  }

  private ping(generation: number): void {
    const socket = this.socket;
    if (generation !== this.generation || !socket || socket.readyState !== OPEN) return;
    socket.send(JSON.stringify({ frameType: FrameType.ping }));
    if (this.pongTimer === undefined) {
      this.pongTimer = setTimeout(() => {
        if (generation !== this.generation) return;
        try {
          socket.close(CloseCode.normal, 'pong timeout');
        } catch {
          // already closing
        }
        this.lost(generation, 1006, 'pong timeout');
      }, this.options.pongTimeoutMs);
    }
  }

  private receive(frame: Frame): void {
    if (frame.frameType === FrameType.ping) return;
    if ((frame.frameType === FrameType.ack || frame.frameType === FrameType.error) && frame.id) {
      const pending = this.pending.get(frame.id);
      if (!pending) return;
      this.pending.delete(frame.id);
      clearTimeout(pending.timer);
      if (frame.frameType === FrameType.ack) {
        pending.resolve(frame.data);
      } else {
        const data = (frame.data ?? {}) as { code?: number; msg?: string };
        pending.reject(new ApiError(data.code ?? ErrorCode.serverError, data.msg ?? 'error'));
      }
      return;
    }
    if (frame.frameType === FrameType.error) return; // an error for a frame we did not track
    this.emit('frame', frame);
  }

  /** The socket of `generation` is gone: stop, or wait and reconnect. */
  private lost(generation: number, code: number, reason: string): void {
    if (generation !== this.generation) return;
    this.generation += 1; // late events of this socket are ignored from now on
    this.teardown(new DisconnectedError(`connection lost (${code} ${reason})`));
    if (this.stateValue === 'closed') return;
    if (code === CloseCode.unauthorized) {
      listenOnline(this.onBrowserOnline, false);
      this.emit('authError', new ApiError(ErrorCode.unauthorized, reason || 'token refused'));
      this.setState({ state: 'closed', code, reason });
      return;
    }
    if (code === CloseCode.disabled || code === CloseCode.replaced) {
      listenOnline(this.onBrowserOnline, false);
      this.setState({ state: 'closed', code, reason });
      return;
    }
    const delayMs = backoffDelay(this.attempt, this.options.reconnect, this.options.random);
    const attempt = this.attempt;
    this.attempt += 1;
    this.setState({ state: 'reconnecting', attempt, delayMs, code, reason });
    this.reconnectTimer = setTimeout(() => this.open(), delayMs);
  }

  /** Forgets the current socket: timers stop and waiting requests fail with `error`. */
  private teardown(error: Error): void {
    clearTimeout(this.connectTimer);
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      socket.onopen = null;
      socket.onmessage = null;
      socket.onclose = null;
      socket.onerror = () => undefined;
      if (socket.readyState === OPEN || socket.readyState === 0) {
        try {
          socket.close(CloseCode.normal, 'replaced');
        } catch {
          // already closing
        }
      }
    }
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      clearTimeout(pending.timer);
      pending.reject(error);
    }
  }

  private setState(change: SocketStateChange): void {
    this.stateValue = change.state;
    this.emit('state', change);
  }
}

function parseFrame(data: unknown): Frame | undefined {
  let text: string;
  if (typeof data === 'string') text = data;
  else if (data instanceof ArrayBuffer) text = new TextDecoder().decode(new Uint8Array(data));
  else if (ArrayBuffer.isView(data)) {
    text = new TextDecoder().decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  } else return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null ? (value as Frame) : undefined;
  } catch {
    return undefined;
  }
}

/** In browsers, reconnect as soon as the network comes back instead of waiting out the backoff. */
function listenOnline(listener: () => void, on: boolean): void {
  const target = globalThis as {
    addEventListener?: (type: string, listener: () => void) => void;
    removeEventListener?: (type: string, listener: () => void) => void;
  };
  if (on) target.addEventListener?.('online', listener);
  else target.removeEventListener?.('online', listener);
}
