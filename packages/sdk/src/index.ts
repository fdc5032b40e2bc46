export { backoffDelay, type BackoffOptions } from './backoff.js';
export {
  ChatClient,
  newClientMsgId,
  websocketUrl,
  type ChatClientEvents,
  type ChatClientOptions,
  type ConnectionState,
  type ConnectionStateChange,
  type MessageChangeEvent,
  type MessageEvent,
  type PresenceChange,
  TYPING_TTL_MS,
  type SendFileInput,
  type SendInput,
} from './client.js';
export { fileContent, groupNotice, messageTypeFor } from './file-message.js';
export { Emitter } from './emitter.js';
export { ApiError, DisconnectedError, ErrorCode, isTransient, TimeoutError } from './errors.js';
export {
  RestClient,
  ROUTES,
  type FetchLike,
  type RestClientOptions,
  type RouteName,
} from './rest.js';
export {
  ChatSocket,
  CloseCode,
  type ChatSocketOptions,
  type SocketEvents,
  type SocketState,
  type SocketStateChange,
  type WebSocketConstructor,
  type WebSocketLike,
} from './socket.js';
export { MessageStore } from './message-store.js';
export {
  multipartBody,
  type UploadBody,
  type UploadOptions,
  type UploadProgress,
} from './upload.js';
export { SeqTracker } from './tracker.js';
export * from './types.js';
