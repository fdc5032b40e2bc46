import type { Selectable } from 'kysely';
import type { FilesTable } from '../../adapters/storage/schema.js';

export type FileRecord = Selectable<FilesTable>;

export const FileStatus = { pending: 0, ready: 1 } as const;

/** Message types whose content is a file reference (docs/files.md). */
export const FileMessageType = { image: 1, file: 2, voice: 4, video: 5 } as const;

export function isFileMessageType(mType: number): boolean {
  return mType === 1 || mType === 2 || mType === 4 || mType === 5;
}

/** The file metadata a client sees (upload answer, message content). */
export interface FileInfo {
  fileId: string;
  name: string;
  size: number;
  mime: string;
  width?: number;
  height?: number;
  duration?: number;
}

export function fileInfoOf(file: FileRecord): FileInfo {
  return {
    fileId: file.id,
    name: file.name,
    size: file.size,
    mime: file.mime,
    ...(file.width !== null ? { width: file.width } : {}),
    ...(file.height !== null ? { height: file.height } : {}),
  };
}
