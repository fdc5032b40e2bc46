import {
  ChatType,
  fileContent,
  MessageType,
  messageTypeFor,
  newClientMsgId,
  type FileLink,
  type Message,
} from '@easy-chat/sdk';
import type { StoreCore } from './core.js';
import type { ChatMessage } from './state.js';

/** One line for a message in the conversation list: files by kind, not their JSON. */
export function messagePreview(m: Pick<Message, 'mType' | 'content' | 'revoked'>): string {
  if (m.revoked) return 'Message recalled';
  switch (m.mType) {
    case MessageType.image:
      return '[Image]';
    case MessageType.voice:
      return '[Voice]';
    case MessageType.video:
      return '[Video]';
    case MessageType.file:
      return `[File] ${fileContent(m)?.name ?? ''}`.trim();
    default:
      return m.content;
  }
}

/** How long before a signed link expires the app fetches a fresh one. */
const REFRESH_BEFORE_MS = 60_000;

/**
 * Files in the chat: sending one (attach, paste, drop) with upload progress and a
 * local preview, retrying a failed one, and the signed links through which images,
 * players and downloads read the bytes (an `<img>` cannot send a bearer token).
 */
export class FilesStore {
  /** Files of sends pending or failed, by message key: a retry uploads them again. */
  private readonly outgoing = new Map<string, File>();
  private readonly linking = new Map<string, Promise<void>>();

  constructor(private readonly core: StoreCore) {}

  attach(): void {}

  detach(): void {
    this.outgoing.clear();
    this.linking.clear();
  }

  /** Retries a failed file send; false when the message is no file send of this page. */
  retry(conversationId: string, key: string): boolean {
    const file = this.outgoing.get(key);
    if (!file) return false;
    void this.sendFile(conversationId, file, key);
    return true;
  }

  /**
   * Sends a file: it shows at once with upload progress (an image with a local
   * preview), then as the stored message (the `message` event replaces it).
   */
  async sendFile(conversationId: string, file: File, retryKey?: string): Promise<void> {
    const state = this.core.getState();
    const conversation = state.conversations[conversationId];
    const me = state.me;
    const client = this.core.client;
    if (!conversation || !me || !client) return;
    const existing = retryKey
      ? state.messages[conversationId]?.find((m) => m.key === retryKey)
      : undefined;
    const clientMsgId = existing?.clientMsgId ?? newClientMsgId();
    const total = Math.max(1, file.size);
    const pending: ChatMessage = existing
      ? { ...existing, status: 'sending', error: undefined, upload: { loaded: 0, total } }
      : {
          key: clientMsgId,
          conversationId,
          chatType: conversation.chatType,
          sendId: me.id,
          recvId: conversation.targetId,
          content: '',
          sendTime: Date.now(),
          clientMsgId,
          status: 'sending',
          mType: messageTypeFor(file.type),
          file: { fileId: '', name: file.name || 'file', size: file.size, mime: file.type },
          upload: { loaded: 0, total },
          ...(file.type.startsWith('image/') ? { localUrl: URL.createObjectURL(file) } : {}),
        };
    this.outgoing.set(pending.key, file);
    this.core.set((s) => ({
      messages: {
        ...s.messages,
        [conversationId]: [
          ...(s.messages[conversationId] ?? []).filter((m) => m.key !== pending.key),
          pending,
        ],
      },
    }));
    const patch = (change: Partial<ChatMessage>) =>
      this.core.set((s) => ({
        messages: {
          ...s.messages,
          [conversationId]: (s.messages[conversationId] ?? []).map((m) =>
            m.key === pending.key && m.seq === undefined ? { ...m, ...change } : m,
          ),
        },
      }));
    try {
      const { file: uploaded } = await client.sendFile({
        chatType: conversation.chatType === ChatType.group ? 1 : 2,
        recvId: conversation.targetId,
        conversationId,
        clientMsgId,
        file,
        name: file.name || 'file',
        onProgress: (upload) => patch({ upload }),
      });
      this.outgoing.delete(pending.key);
      // The upload answered with signed links: the image shows without another request.
      // They live files.linkTtlSec (an hour by default); counted as 10 minutes here.
      this.core.set((s) => ({
        links: { ...s.links, [uploaded.fileId]: { ...uploaded, expiresAt: Date.now() + 600_000 } },
      }));
    } catch (err) {
      patch({ status: 'failed', error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** Loads (or refreshes, shortly before they expire) the signed links of a file. */
  ensureLink(fileId: string): void {
    const held: FileLink | undefined = this.core.getState().links[fileId];
    if (held && held.expiresAt - REFRESH_BEFORE_MS > Date.now()) return;
    const client = this.core.client;
    if (this.linking.has(fileId) || !client) return;
    const loading = client.api
      .fileLink(fileId)
      .then((link) => this.core.set((s) => ({ links: { ...s.links, [fileId]: link } })))
      .catch((err: unknown) => console.warn('easy-chat: file link', fileId, err))
      .finally(() => this.linking.delete(fileId));
    this.linking.set(fileId, loading);
  }
}
