import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../errors/app-error.js';
import { CommonErrors } from '../../errors/common.errors.js';
import { FileErrors } from './files.errors.js';

/** Multipart failures, by @fastify/multipart or busboy error, as envelope errors. */
function uploadError(err: unknown, maxBytes: number): unknown {
  if (err instanceof AppError) return err;
  const e = err as { code?: string; message?: string };
  switch (e.code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return new AppError(FileErrors.fileTooLarge, `files are limited to ${maxBytes} bytes`);
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new AppError(CommonErrors.badRequest, 'send exactly one part, the file, named "file"');
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new AppError(CommonErrors.unsupportedMediaType, 'send multipart/form-data');
    case 'FST_MP_PREMATURE_CLOSE':
    case 'ERR_STREAM_PREMATURE_CLOSE':
      return new AppError(FileErrors.uploadTruncated, undefined, { cause: err });
  }
  // busboy's parse errors: "Unexpected end of form", "Part terminated early", "Malformed part header"…
  if (/end of (form|multipart)|terminated early|malformed|boundary/i.test(e.message ?? '')) {
    return new AppError(FileErrors.uploadTruncated, undefined, { cause: err });
  }
  return err;
}

/**
 * Reads a multipart upload that has exactly one part: a file named `file`. The
 * file is handed to `store` as a stream; when it grows past `maxBytes` the stream
 * fails with 413 at that byte, so no more of the body is stored.
 */
export async function readUpload<T>(
  request: FastifyRequest,
  maxBytes: number,
  store: (part: { filename: string | undefined; stream: Readable }) => Promise<T>,
): Promise<T> {
  let result: { value: T } | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type !== 'file' || part.fieldname !== 'file' || result) {
        if (part.type === 'file') part.file.resume();
        throw new AppError(
          CommonErrors.badRequest,
          `unknown multipart part "${part.fieldname.slice(0, 100)}" (send one part named "file")`,
        );
      }
      const stream = part.file;
      stream.once('limit', () =>
        stream.destroy(
          new AppError(FileErrors.fileTooLarge, `files are limited to ${maxBytes} bytes`),
        ),
      );
      result = { value: await store({ filename: part.filename, stream }) };
    }
  } catch (err) {
    throw uploadError(err, maxBytes);
  }
  if (!result) throw new AppError(FileErrors.fileFieldMissing);
  return result.value;
}
