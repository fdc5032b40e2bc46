/** The envelope every API answer carries. */
export interface EnvelopeBody<T = any> {
  code: number;
  msg: string;
  data: T;
}

export interface HttpAnswer<T = any> {
  status: number;
  body: EnvelopeBody<T>;
  headers: Headers;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as-is (for malformed JSON tests); sets content-type to JSON unless given. */
  rawBody?: string;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  token?: string | null;
  /** Fails the request (AbortError) after this long, to bound waits on a server in trouble. */
  timeoutMs?: number;
}

/** A tiny client over real sockets (global fetch), so tests exercise the real HTTP stack. */
export class HttpClient {
  constructor(
    readonly baseUrl: string,
    readonly token?: string,
  ) {}

  withToken(token: string): HttpClient {
    return new HttpClient(this.baseUrl, token);
  }

  async request<T = any>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<HttpAnswer<T>> {
    const url = new URL(path, this.baseUrl);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === undefined ? this.token : options.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const signal = options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined;
    const response = await fetch(url, { method, headers, body, signal });
    const text = await response.text();
    let parsed: EnvelopeBody<T>;
    try {
      parsed = JSON.parse(text) as EnvelopeBody<T>;
    } catch {
      throw new Error(
        `${method} ${path}: answer is not JSON (${response.status}): ${text.slice(0, 200)}`,
      );
    }
    return { status: response.status, body: parsed, headers: response.headers };
  }

  get<T = any>(path: string, options?: RequestOptions) {
    return this.request<T>('GET', path, options);
  }
  post<T = any>(path: string, body?: unknown, options?: RequestOptions) {
    return this.request<T>('POST', path, { ...options, body });
  }
  put<T = any>(path: string, body?: unknown, options?: RequestOptions) {
    return this.request<T>('PUT', path, { ...options, body });
  }
  delete<T = any>(path: string, options?: RequestOptions) {
    return this.request<T>('DELETE', path, options);
  }
}
