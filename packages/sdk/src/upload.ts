import { ApiError, ErrorCode, TimeoutError } from './errors.js';

/** What can be uploaded: a Blob or File (browsers; `fs.openAsBlob(path)` in Node), or bytes. */
export type UploadBody = Blob | ArrayBuffer | ArrayBufferView;

export interface UploadProgress {
  /** Bytes of the request sent so far (multipart framing included). */
  loaded: number;
  /** Bytes of the whole request. */
  total: number;
}

export interface UploadOptions {
  /** The name shown to others; default the File's name, else "file". */
  name?: string;
  /** Called as bytes leave (XMLHttpRequest upload events in browsers, the body stream in Node). */
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
  /**
   * Gives up when neither a byte nor the answer moved for this long (an upload may
   * take minutes, so there is no overall deadline); default 60 s.
   */
  stallTimeoutMs?: number;
}

/** The request of an upload, ready for either transport. */
export interface UploadRequest {
  /** POST (multipart to the API) or PUT (the bytes to a presigned URL); default POST. */
  method?: 'POST' | 'PUT';
  url: string;
  headers: Record<string, string>;
  body: Blob;
}

/** The fetch an upload needs (the SDK's FetchLike is one). */
export type UploadFetch = (
  input: string,
  init: {
    method: string;
    headers: Record<string, string>;
    body: ReadableStream<Uint8Array>;
    duplex: 'half';
    signal: AbortSignal;
  },
) => Promise<Response>;

/** The minimal XMLHttpRequest surface the browser transport uses. */
interface XhrLike {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: Blob): void;
  abort(): void;
  status: number;
  responseText: string;
  upload: { onprogress: ((e: { loaded: number }) => void) | null };
  onprogress: (() => void) | null;
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}

/**
 * The multipart/form-data body of one part named `file`, as a Blob: its size is
 * known up front (so the server can refuse an oversize file from the headers), and
 * a Blob made from a file on disk is read as it is sent, never held in memory.
 */
export function multipartBody(file: UploadBody, name: string): { body: Blob; boundary: string } {
  const boundary = `easychat-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  // The HTML form encoding of a name: quotes and line breaks escaped, UTF-8 kept.
  const quoted = name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  const head =
    `--${boundary}\r\n` +
    `Content-Disposition: form-data; name="file"; filename="${quoted}"\r\n` +
    // The server sniffs the type from the bytes; it never trusts this one.
    `Content-Type: application/octet-stream\r\n\r\n`;
  const part = file instanceof Blob ? file : new Blob([bytesOf(file)]);
  return { body: new Blob([head, part, `\r\n--${boundary}--\r\n`]), boundary };
}

function bytesOf(data: ArrayBuffer | ArrayBufferView): Uint8Array<ArrayBuffer> {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  // A copy of the view's own window: a Blob part must not see bytes outside it.
  const copy = new Uint8Array(data.byteLength);
  copy.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return copy;
}

/** The display name of an upload: the option, else a File's own name, else "file". */
export function uploadName(file: UploadBody, options: UploadOptions): string {
  if (options.name) return options.name;
  const own = (file as { name?: unknown }).name;
  return typeof own === 'string' && own ? own : 'file';
}

/**
 * Sends an upload and answers the parsed envelope. Browsers use XMLHttpRequest,
 * whose upload events are the only way a page learns how much has left; elsewhere
 * (Node) fetch with the body as a stream, counting what fetch pulls from it (it
 * pulls as the socket drains, so the count follows the network).
 */
export async function sendUpload(
  request: UploadRequest,
  options: UploadOptions,
  fetchFn: UploadFetch | undefined,
): Promise<{ status: number; text: string }> {
  const Xhr = (globalThis as { XMLHttpRequest?: new () => XhrLike }).XMLHttpRequest;
  if (!fetchFn && Xhr) return sendWithXhr(new Xhr(), request, options);
  if (!fetchFn) throw new Error('easy-chat sdk: no fetch available; pass options.fetch');
  return sendWithFetch(fetchFn, request, options);
}

function stallGuard(options: UploadOptions, onStall: () => void) {
  const ms = options.stallTimeoutMs ?? 60_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const poke = () => {
    clearTimeout(timer);
    timer = setTimeout(onStall, ms);
  };
  poke();
  return { poke, stop: () => clearTimeout(timer), ms };
}

function sendWithXhr(
  xhr: XhrLike,
  request: UploadRequest,
  options: UploadOptions,
): Promise<{ status: number; text: string }> {
  const total = request.body.size;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      guard.stop();
      options.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const guard = stallGuard(options, () =>
      finish(() => {
        xhr.abort();
        reject(new TimeoutError(`upload stalled for ${guard.ms} ms`));
      }),
    );
    const onAbort = () =>
      finish(() => {
        xhr.abort();
        reject(abortError(options.signal));
      });
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort);
    xhr.open(request.method ?? 'POST', request.url);
    for (const [name, value] of Object.entries(request.headers)) {
      // The browser sets the length itself; setting it is refused.
      if (name !== 'content-length') xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (e) => {
      guard.poke();
      options.onProgress?.({ loaded: Math.min(e.loaded, total), total });
    };
    xhr.onprogress = () => guard.poke();
    xhr.onload = () =>
      finish(() => {
        options.onProgress?.({ loaded: total, total });
        resolve({ status: xhr.status, text: xhr.responseText });
      });
    xhr.onerror = () => finish(() => reject(new TypeError('upload failed: network error')));
    xhr.onabort = () => finish(() => reject(abortError(options.signal)));
    xhr.send(request.body);
  });
}

async function sendWithFetch(
  fetchFn: UploadFetch,
  request: UploadRequest,
  options: UploadOptions,
): Promise<{ status: number; text: string }> {
  const total = request.body.size;
  const controller = new AbortController();
  let stalled = false;
  const guard = stallGuard(options, () => {
    stalled = true;
    controller.abort();
  });
  const onAbort = () => controller.abort();
  if (options.signal?.aborted) throw abortError(options.signal);
  options.signal?.addEventListener('abort', onAbort);
  const reader = request.body.stream().getReader();
  let loaded = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(out) {
      const { done, value } = await reader.read();
      if (done) {
        out.close();
        return;
      }
      out.enqueue(value);
      loaded += value.byteLength;
      guard.poke();
      options.onProgress?.({ loaded, total });
    },
    cancel: (reason) => reader.cancel(reason),
  });
  try {
    const response = await fetchFn(request.url, {
      method: request.method ?? 'POST',
      headers: request.headers,
      body,
      // A stream body must say it is sent before the answer is read (fetch standard).
      duplex: 'half',
      signal: controller.signal,
    });
    guard.poke();
    const text = await response.text();
    return { status: response.status, text };
  } catch (err) {
    if (stalled) throw new TimeoutError(`upload stalled for ${guard.ms} ms`);
    if (options.signal?.aborted) throw abortError(options.signal);
    throw err;
  } finally {
    guard.stop();
    options.signal?.removeEventListener('abort', onAbort);
  }
}

function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new DOMException('upload aborted', 'AbortError');
}

/** The `data` of a success envelope, or the server's refusal as ApiError. */
export function unwrapEnvelope<T>(status: number, text: string, what: string): T {
  let envelope: { code?: unknown; msg?: unknown; data?: unknown };
  try {
    envelope = JSON.parse(text) as typeof envelope;
  } catch {
    throw new ApiError(
      ErrorCode.serverError,
      `${what}: answer is not JSON (HTTP ${status})`,
      status,
    );
  }
  if (status >= 200 && status < 300 && envelope.code === 200) return envelope.data as T;
  throw new ApiError(
    typeof envelope.code === 'number' ? envelope.code : ErrorCode.serverError,
    typeof envelope.msg === 'string' ? envelope.msg : `HTTP ${status}`,
    status,
  );
}
