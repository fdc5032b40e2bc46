import { MessageType, type FileContent, type GroupNoticeContent, type Message } from './types.js';

/** Message types whose content names a file. */
const FILE_TYPES: ReadonlySet<number> = new Set([
  MessageType.image,
  MessageType.file,
  MessageType.voice,
  MessageType.video,
]);

/**
 * The message type that fits a file's (sniffed) type, as the server checks it: an
 * image message carries an image, a video message a video; anything else is sent
 * as a file. Voice (4) is never guessed — a recording is sent as voice by asking.
 */
export function messageTypeFor(mime: string): number {
  if (mime.startsWith('image/')) return MessageType.image;
  if (mime.startsWith('video/')) return MessageType.video;
  return MessageType.file;
}

/** The file a message carries, or undefined (not a file message, recalled, or malformed). */
export function fileContent(message: Pick<Message, 'mType' | 'content'>): FileContent | undefined {
  if (!FILE_TYPES.has(message.mType) || !message.content) return undefined;
  try {
    const value = JSON.parse(message.content) as Partial<FileContent> | null;
    if (!value || typeof value.fileId !== 'string' || typeof value.name !== 'string') {
      return undefined;
    }
    return value as FileContent;
  } catch {
    return undefined;
  }
}

/**
 * The notice a group notice message (mType 10) carries, parsed; undefined for any
 * other message or a content that is not a notice object. `type` is kept as sent:
 * a client shows a type it does not know as a generic line rather than hiding it.
 */
export function groupNotice(
  message: Pick<Message, 'mType' | 'content'>,
): GroupNoticeContent | undefined {
  if (message.mType !== MessageType.notice || !message.content) return undefined;
  try {
    const value = JSON.parse(message.content) as Partial<GroupNoticeContent> | null;
    if (!value || typeof value !== 'object' || typeof value.type !== 'string') return undefined;
    return {
      ...value,
      operatorId: typeof value.operatorId === 'string' ? value.operatorId : '',
    } as GroupNoticeContent;
  } catch {
    return undefined;
  }
}
