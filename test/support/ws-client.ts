import WebSocket from 'ws';

export interface Frame {
  frameType: number;
  id?: string;
  method?: string;
  formId?: string;
  data?: any;
}

export interface ConnectOptions {
  token?: string;
  /** How to present the token: header (default), query or subprotocol. */
  via?: 'header' | 'query' | 'protocol';
  headers?: Record<string, string>;
}

let requestCounter = 0;

/**
 * A test WebSocket client over a real socket: records every frame, answers
 * requests by id, and exposes how the server closed it.
 */
export class WsClient {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly waiters: Array<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void }> =
    [];
  private readonly listeners: Array<(f: Frame) => void> = [];

  private constructor(readonly socket: WebSocket) {
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    socket.on('message', (raw) => {
      const frame = JSON.parse((raw as Buffer).toString('utf8')) as Frame;
      this.frames.push(frame);
      for (const listener of this.listeners) listener(frame);
      for (const waiter of [...this.waiters]) {
        if (waiter.match(frame)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(frame);
        }
      }
    });
  }

  /** Calls `listener` with every frame received from now on. */
  onFrame(listener: (f: Frame) => void): void {
    this.listeners.push(listener);
  }

  /** Opens a socket; resolves once open (authentication may still close it after). */
  static async connect(baseUrl: string, options: ConnectOptions = {}): Promise<WsClient> {
    const url = new URL('/ws', baseUrl.replace(/^http/, 'ws'));
    const headers: Record<string, string> = { ...options.headers };
    let protocols: string[] | undefined;
    if (options.token) {
      if (options.via === 'query') url.searchParams.set('token', options.token);
      else if (options.via === 'protocol') protocols = ['bearer', options.token];
      else headers.authorization = `Bearer ${options.token}`;
    }
    const socket = new WebSocket(url, protocols, { headers });
    const client = new WsClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  /**
   * Resolves once the server has authenticated and registered this socket: frames
   * wait for authentication, so the answer to a ping means pushes will now arrive.
   */
  async ready(): Promise<this> {
    const before = this.frames.length;
    this.send({ frameType: 1 });
    await this.waitFor((f) => f.frameType === 1 && this.frames.indexOf(f) >= before);
    return this;
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  sendRaw(text: string | Buffer): void {
    this.socket.send(text);
  }

  send(frame: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(frame));
  }

  /** Sends a request frame and waits for the answer (frameType 2 or 9) with its id. */
  async request(method: string, data?: unknown, timeoutMs = 10_000): Promise<Frame> {
    requestCounter += 1;
    const id = `r${requestCounter}`;
    const answer = this.waitFor(
      (f) => f.id === id && (f.frameType === 2 || f.frameType === 9),
      timeoutMs,
    );
    this.send({ frameType: 0, id, method, data });
    return answer;
  }

  /** Like request, but fails unless the answer is a success; returns its data. */
  async call(method: string, data?: unknown): Promise<any> {
    const frame = await this.request(method, data);
    if (frame.frameType !== 2) throw new Error(`${method} failed: ${JSON.stringify(frame.data)}`);
    return frame.data;
  }

  /** The first frame (already received or future) matching `match`. */
  waitFor(match: (f: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`timed out waiting for a frame (${this.frames.length} received)`));
      }, timeoutMs);
      const waiter = {
        match,
        resolve: (f: Frame) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Waits until `count` frames match. */
  async waitForCount(
    match: (f: Frame) => boolean,
    count: number,
    timeoutMs = 10_000,
  ): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.filter(match).length < count) {
      if (Date.now() > deadline) {
        throw new Error(`timed out: ${this.frames.filter(match).length}/${count} frames`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.frames.filter(match);
  }

  pushes(method = 'push'): Frame[] {
    return this.frames.filter((f) => f.frameType === 0 && f.method === method);
  }

  close(): Promise<{ code: number; reason: string }> {
    if (
      this.socket.readyState === WebSocket.OPEN ||
      this.socket.readyState === WebSocket.CONNECTING
    ) {
      this.socket.close(1000);
    }
    return this.closed;
  }
}

/**
 * The sockets a suite opens on its app: each connected with a user's token and ready
 * (WsClient.ready), all closed by `closeAll` in the suite's afterAll, before the app.
 * `app` is read at each connect, so the suite may start its app in beforeAll.
 * suiteApp (suite-app.ts) sets up both for a suite that needs no more.
 */
export class SuiteSockets {
  private readonly opened: WsClient[] = [];

  constructor(private readonly app: () => { url: string }) {}

  /** A ready socket authenticated as `who` (a user, or a token). */
  async connect(who: string | { token: string }): Promise<WsClient> {
    const token = typeof who === 'string' ? who : who.token;
    const client = await WsClient.connect(this.app().url, { token });
    this.opened.push(client);
    return client.ready();
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.opened.splice(0).map((s) => s.close()));
  }
}
