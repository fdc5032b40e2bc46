import {
  ChatClient,
  type ChatClientOptions,
  type Message,
  type WebSocketLike,
} from '@easy-chat/sdk';
import WebSocket from 'ws';
import type { RegisteredUser } from './factories.js';

/**
 * A `ws` socket behind a switchboard the test controls: it can refuse to connect
 * (the network is down), drop frames in either direction, or cut the socket.
 */
export class Network {
  down = false;
  /** Return false to drop a frame the server sent. */
  inbound: (frame: any) => boolean = () => true;
  /** Return false to drop a frame the client sends. */
  outbound: (frame: any) => boolean = () => true;
  readonly sockets = new Set<FlakySocket>();

  /** The WebSocket constructor to pass to the SDK. */
  readonly WebSocket = socketClassFor(this);

  /** Cuts every open socket (as a lost connection: the client sees 1006). */
  cut(): void {
    for (const socket of this.sockets) socket.terminate();
  }
}

function socketClassFor(network: Network) {
  return class extends FlakySocket {
    constructor(url: string, protocols?: string | string[]) {
      super(network, url, protocols);
    }
  };
}

class FlakySocket implements WebSocketLike {
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  private readonly ws: WebSocket;

  constructor(
    private readonly network: Network,
    url: string,
    protocols?: string | string[],
  ) {
    // A refused port stands for the network being down.
    this.ws = new WebSocket(network.down ? 'ws://127.0.0.1:9/ws' : url, protocols);
    network.sockets.add(this);
    this.ws.on('open', () => this.onopen?.({}));
    this.ws.on('message', (raw: Buffer) => {
      const text = raw.toString('utf8');
      if (this.network.inbound(JSON.parse(text))) this.onmessage?.({ data: text });
    });
    this.ws.on('error', (err) => this.onerror?.(err));
    this.ws.on('close', (code: number, reason: Buffer) => {
      network.sockets.delete(this);
      this.onclose?.({ code, reason: reason.toString() });
    });
  }

  get readyState(): number {
    return this.ws.readyState;
  }

  send(data: string): void {
    if (this.network.outbound(JSON.parse(data))) this.ws.send(data);
  }

  close(code?: number, reason?: string): void {
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }
}

/** A connected SDK client for a registered user, recording every message event. */
export async function sdkClient(
  url: string,
  user: RegisteredUser,
  options: Partial<ChatClientOptions> & { network?: Network } = {},
): Promise<{ client: ChatClient; received: Message[]; network: Network }> {
  const network = options.network ?? new Network();
  const client = new ChatClient({
    baseUrl: url,
    token: user.token,
    WebSocket: network.WebSocket,
    reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
    ...options,
  });
  const received: Message[] = [];
  client.on('message', ({ message }) => received.push(message));
  await client.connect();
  await waitUntil(() => client.state === 'online');
  return { client, received, network };
}

/** Polls a condition every 10 ms (state reached through sockets has no single event to await). */
export async function waitUntil(
  condition: () => boolean,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
