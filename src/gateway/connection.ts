import type { WebSocket } from 'ws';
import { newId } from '../shared/ids.js';
import { CloseCode } from './close-codes.js';
import { OutboundFrame } from '../realtime/outbound-frame.js';
import { TokenBucket } from './token-bucket.js';

export interface ConnectionLimits {
  idleTimeoutMs: number;
  sendHighWaterBytes: number;
  framesPerSec: number;
  frameBurst: number;
}

/**
 * The byte stream under a WebSocket: the socket `ws` writes its frames to. A frame
 * written here whole sits between the frames `ws` writes, never inside one: `ws` writes
 * each of its frames synchronously when, as here, no extension (compression) is
 * negotiated and no Blob is sent.
 */
export interface FrameWire {
  write(chunk: Buffer): boolean;
  /** Bytes written and not yet handed to the kernel (`net.Socket#writableLength`). */
  readonly writableLength: number;
  /** Holds what is written until `uncork`, which hands it to the kernel in one write. */
  cork(): void;
  uncork(): void;
}

/** `WebSocket.OPEN` (RFC 6455's OPEN state as `ws` numbers it). */
const WS_OPEN = 1;

/** How long a closing socket may take to finish the close handshake before it is cut. */
const CLOSE_GRACE_MS = 1_000;

/**
 * One authenticated WebSocket. Owns the per-socket limits: the idle timer, the
 * frame-rate bucket and the outbound high-water mark, so that one slow or noisy
 * client never costs other connections memory or time.
 */
export class Connection {
  readonly openedAt = Date.now();
  private idleTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private readonly bucket: TokenBucket;
  private closed = false;
  private readonly wire: FrameWire | undefined;
  /** Corked by `hold`, until `release`. */
  private held = false;
  /** The code the server closed with, if it closed first. */
  closeCode: number | undefined;
  /**
   * When the token this socket authenticated with was issued (epoch seconds): a
   * revocation of the user's tokens up to a cut-off closes the sockets at or before it.
   */
  tokenIssuedAt = 0;

  constructor(
    readonly socket: WebSocket,
    readonly userId: string,
    /** The token id this socket authenticated with (closed when it is revoked). */
    readonly tokenId: string,
    private readonly limits: ConnectionLimits,
    private readonly onSlowConsumer: (connection: Connection) => void = () => undefined,
    /** Given before the upgrade when presence learns of the socket first. */
    readonly id: string = newId(),
    /** The socket under `socket`, for frames encoded once for many sockets (sendFrame). */
    wire?: FrameWire,
  ) {
    // A negotiated extension (permessage-deflate) would make `ws` queue and rewrite
    // frames: then every frame goes through `ws`.
    this.wire = socket.extensions === '' ? wire : undefined;
    this.bucket = new TokenBucket(limits.framesPerSec, limits.frameBurst);
    this.touch();
  }

  get isOpen(): boolean {
    return !this.closed && this.socket.readyState === this.socket.OPEN;
  }

  /** Any frame from the client, pings included, proves it is alive. */
  touch(): void {
    // Every frame in moves the timer: re-armed in place (no timer made and dropped per frame).
    if (this.idleTimer) {
      this.idleTimer.refresh();
      return;
    }
    this.idleTimer = setTimeout(
      () => this.close(CloseCode.idleTimeout, 'idle timeout'),
      this.limits.idleTimeoutMs,
    );
    this.idleTimer.unref();
  }

  /** Closes the socket when its token expires. */
  expireAt(epochMs: number): void {
    clearTimeout(this.expiryTimer);
    // setTimeout overflows beyond ~24.8 days; such tokens are re-checked on reconnect anyway.
    const delay = Math.min(Math.max(0, epochMs - Date.now()), 2 ** 31 - 1);
    this.expiryTimer = setTimeout(() => this.close(CloseCode.unauthorized, 'token expired'), delay);
    this.expiryTimer.unref();
  }

  allowFrame(): boolean {
    return this.bucket.take();
  }

  /**
   * Queues a text frame. When the socket's unsent bytes pass the high-water mark
   * the client is not keeping up: it is disconnected (it will reconnect and sync)
   * rather than buffered without bound. Returns whether the frame was queued.
   */
  send(text: string | Buffer): boolean {
    // Framed here and written in one go, like a push (sendFrame), when the socket is ours
    // to write to: `ws` would copy the text to a buffer and write header and payload apart.
    if (this.wire !== undefined && typeof text === 'string') {
      return this.sendFrame(new OutboundFrame(text));
    }
    if (!this.writable()) return false;
    // A Buffer is the UTF-8 of a JSON frame: sent as a text frame all the same.
    this.socket.send(text, { binary: false });
    return true;
  }

  /**
   * Queues a frame shared by many sockets (a push): its WebSocket bytes, encoded once,
   * go to the socket in one write. Same rules as `send`.
   */
  sendFrame(frame: OutboundFrame): boolean {
    const wire = this.wire;
    if (wire === undefined) {
      if (!this.writable()) return false;
      this.socket.send(frame.payload, { binary: false });
      return true;
    }
    // The checks of writable(), read where this write touches memory anyway: a group
    // push runs this for every member, and each object read here is a cache miss once
    // the kernel's write has run in between. `ws`'s bufferedAmount adds its sender's
    // queue, which holds bytes only while compressing (no extension here) or reading a
    // Blob (never sent): the socket's own unsent bytes are the whole of it.
    if (this.closed || this.socket.readyState !== WS_OPEN) return false;
    if (wire.writableLength > this.limits.sendHighWaterBytes) {
      this.cut();
      return false;
    }
    wire.write(frame.wire);
    return true;
  }

  /**
   * Corks the socket until `release`: the frames written meanwhile (a message's push and
   * the read receipt right behind it) reach the kernel in one write, not a system call
   * each. Ordered as written; ws's own frames (pings, close) queue in the same stream.
   * False, with nothing to release, when it is already held or ws writes its frames
   * (permessage-deflate).
   */
  hold(): boolean {
    if (this.held || this.wire === undefined) return false;
    this.held = true;
    this.wire.cork();
    return true;
  }

  /** Writes what was held since `hold`. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    this.wire!.uncork();
  }

  /** Open and keeping up; a client past the high-water mark is cut here. */
  private writable(): boolean {
    if (!this.isOpen) return false;
    // Unsent bytes of the socket, whether `ws` or sendFrame wrote them.
    if (this.socket.bufferedAmount > this.limits.sendHighWaterBytes) {
      this.cut();
      return false;
    }
    return true;
  }

  /** Past the high-water mark: the client is not keeping up. */
  private cut(): void {
    this.onSlowConsumer(this);
    this.close(CloseCode.slowConsumer, 'slow consumer');
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closeCode = code;
    this.dispose();
    try {
      this.socket.close(code, reason);
    } catch {
      this.socket.terminate();
      return;
    }
    // A client that stopped reading may never answer the close frame.
    setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS).unref();
  }

  /** Clears timers; called when the socket is gone. */
  dispose(): void {
    this.closed = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.expiryTimer);
  }
}
