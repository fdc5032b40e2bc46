import { MessageType, type FileContent, type Message } from './types.js';

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
