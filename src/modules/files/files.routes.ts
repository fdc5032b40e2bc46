import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, bearerToken, caller } from '../../auth/authenticate.js';
import type { TokenService } from '../../auth/token.service.js';
import { AppError } from '../../errors/app-error.js';
import { CommonErrors } from '../../errors/common.errors.js';
import { errorResponses, ok } from '../../http/envelope.js';
import type { Clock } from '../../shared/clock.js';
import { parseRange } from './byte-range.js';
import type { FileLinks, FileVariant } from './file-links.js';
import type { FileService, FilesConfig } from './file.service.js';
import { isInlineSafe } from './file-type-policy.js';
import { FileErrors } from './files.errors.js';
import {
  DirectUploadBody,
  DirectUploadResponse,
  DownloadQuery,
  FileIdParams,
  FileLinkResponse,
  FileResponse,
  UploadIdParams,
} from './files.schema.js';
import { readUpload } from './upload-reader.js';

const tags = ['files'];

/** A download's answer is the bytes (sent as a stream, never serialized). */
const FileBytes = {
  description: 'the bytes; Content-Type as sniffed at upload (WebP for thumbnails)',
  content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
} as const;
const security = [{ bearer: [] }];

/** Room for the multipart framing around the file (boundaries, part headers). */
const MULTIPART_OVERHEAD = 16 * 1024;

export interface FilesRoutesDeps {
  tokens: TokenService;
  files: FileService;
  links: FileLinks;
  config: FilesConfig;
  clock: Clock;
}

/** `/v1/files`: upload, direct (presigned) upload, signed links and downloads. */
export function filesRoutes(deps: FilesRoutesDeps): FastifyPluginAsyncTypebox {
  const { files, config } = deps;
  return async (app) => {
    const onRequest = authenticate(deps.tokens);
    await app.register(multipart, {
      limits: {
        fileSize: config.maxBytes,
        files: 1,
        fields: 0,
        parts: 1,
        fieldNameSize: 100,
        headerPairs: 20,
      },
    });

    app.post(
      '',
      {
        onRequest,
        // Refused from the headers, before any byte of an oversize body is read.
        preValidation: async (request) => {
          const length = Number(request.headers['content-length']);
          if (length > config.maxBytes + MULTIPART_OVERHEAD) {
            throw new AppError(
              FileErrors.fileTooLarge,
              `files are limited to ${config.maxBytes} bytes`,
            );
          }
          if (!request.isMultipart()) {
            throw new AppError(CommonErrors.unsupportedMediaType, 'send multipart/form-data');
          }
        },
        schema: {
          tags,
          security,
          summary: 'Upload a file (multipart/form-data, one part named "file"), streamed',
          operationId: 'uploadFile',
          errors: [
            FileErrors.fileTooLarge,
            FileErrors.quotaExceeded,
            FileErrors.fileTypeNotAllowed,
            FileErrors.fileFieldMissing,
            FileErrors.uploadTruncated,
            FileErrors.imageTooLarge,
            FileErrors.imageUnreadable,
            CommonErrors.unsupportedMediaType,
          ],
          response: { 200: FileResponse, ...errorResponses },
        },
      },
      async (request) => {
        const length = Number(request.headers['content-length']);
        const declaredBytes = Number.isFinite(length)
          ? Math.max(0, length - MULTIPART_OVERHEAD)
          : undefined;
        const view = await readUpload(request, config.maxBytes, (part) =>
          files.upload(caller(request).userId, { ...part, declaredBytes }),
        );
        return ok(view);
      },
    );

    app.post(
      '/uploads',
      {
        onRequest,
        schema: {
          tags,
          security,
          summary: 'Announce a large upload: a presigned PUT straight to S3 (S3 storage only)',
          operationId: 'createDirectUpload',
          errors: [
            FileErrors.directUploadUnavailable,
            FileErrors.fileTooLarge,
            FileErrors.quotaExceeded,
          ],
          body: DirectUploadBody,
          response: { 200: DirectUploadResponse, ...errorResponses },
        },
      },
      async (request) => ok(await files.announceDirect(caller(request).userId, request.body)),
    );

    app.post(
      '/uploads/:uploadId/complete',
      {
        onRequest,
        schema: {
          tags,
          security,
          summary: 'Check the bytes of a direct upload (size, type) and make the file usable',
          operationId: 'completeDirectUpload',
          errors: [
            FileErrors.uploadNotFound,
            FileErrors.uploadSizeMismatch,
            FileErrors.uploadAlreadyComplete,
            FileErrors.fileTypeNotAllowed,
            FileErrors.imageTooLarge,
            FileErrors.imageUnreadable,
          ],
          params: UploadIdParams,
          response: { 200: FileResponse, ...errorResponses },
        },
      },
      async (request) =>
        ok(await files.completeDirect(caller(request).userId, request.params.uploadId)),
    );

    app.get(
      '/:fileId/link',
      {
        onRequest,
        schema: {
          tags,
          security,
          summary: 'Fresh signed links (for <img src> and downloads) to a file I may read',
          operationId: 'fileLink',
          errors: [FileErrors.fileNotFound, FileErrors.fileForbidden],
          params: FileIdParams,
          response: { 200: FileLinkResponse, ...errorResponses },
        },
      },
      async (request) => ok(await files.links(caller(request).userId, request.params.fileId)),
    );

    for (const variant of ['file', 'thumb'] as const) {
      app.get(
        variant === 'file' ? '/:fileId' : '/:fileId/thumb',
        {
          schema: {
            tags,
            security,
            summary:
              variant === 'file'
                ? 'Download a file (bearer token or signed link; Range, ETag)'
                : 'Download an image thumbnail (WebP, at most files.thumbSize px)',
            operationId: variant === 'file' ? 'downloadFile' : 'downloadThumbnail',
            errors: [
              FileErrors.fileNotFound,
              FileErrors.fileForbidden,
              FileErrors.linkInvalid,
              ...(variant === 'file' ? [FileErrors.rangeNotSatisfiable] : [FileErrors.noThumbnail]),
            ],
            params: FileIdParams,
            querystring: DownloadQuery,
            response: { 200: FileBytes, 206: FileBytes, ...errorResponses },
          },
        },
        async (request, reply) => {
          const userId = await downloader(
            { headers: request.headers, params: request.params, query: request.query },
            variant,
            deps,
          );
          return sendFile(
            request,
            reply,
            await files.open(userId, request.params.fileId, variant),
            files,
          );
        },
      );
    }
  };
}

/** Who is downloading: the bearer token's user, or the user a valid signed link names. */
async function downloader(
  request: {
    headers: FastifyRequest['headers'];
    params: { fileId: string };
    query: { uid?: string; expires?: number; sig?: string };
  },
  variant: FileVariant,
  deps: FilesRoutesDeps,
): Promise<string> {
  const token = bearerToken(request.headers.authorization);
  if (token) return (await deps.tokens.verify(token)).userId;
  const { uid, expires, sig } = request.query;
  if (uid === undefined && expires === undefined && sig === undefined) {
    throw new AppError(CommonErrors.unauthorized, 'token or signed link missing');
  }
  const claims = {
    fileId: request.params.fileId,
    variant,
    userId: uid ?? '',
    expires: expires ?? 0,
  };
  if (!uid || expires === undefined || !sig || !deps.links.verify(claims, sig, deps.clock())) {
    throw new AppError(FileErrors.linkInvalid);
  }
  return uid;
}

async function sendFile(
  request: FastifyRequest,
  reply: FastifyReply,
  target: Awaited<ReturnType<FileService['open']>>,
  files: FileService,
): Promise<unknown> {
  const { file, variant, blobKey, mime } = target;
  const etag = `"${file.id}${variant === 'thumb' ? '-t' : ''}"`;
  // A file's bytes never change under its id: browsers may keep it, privately.
  void reply.header('etag', etag);
  void reply.header('cache-control', 'private, max-age=86400, immutable');
  void reply.header('accept-ranges', 'bytes');
  void reply.header('x-content-type-options', 'nosniff');
  // Nothing served here may run script; PDF viewers do not start in a sandbox.
  if (mime !== 'application/pdf') {
    void reply.header('content-security-policy', "default-src 'none'; sandbox");
  }
  void reply.header('content-disposition', disposition(file.name, variant, mime));
  if (request.headers['if-none-match'] === etag) return reply.status(304).send();

  const size = variant === 'thumb' ? undefined : file.size;
  const ifRange = request.headers['if-range'];
  const rangeHeader = ifRange === undefined || ifRange === etag ? request.headers.range : undefined;
  const range = size === undefined ? undefined : parseRange(rangeHeader, size);
  if (range === 'unsatisfiable') {
    void reply.header('content-range', `bytes */${size}`);
    throw new AppError(FileErrors.rangeNotSatisfiable);
  }
  const read = await files.read(blobKey, range);
  void reply.type(mime);
  if (range) {
    void reply.status(206);
    void reply.header('content-range', `bytes ${range.start}-${range.end}/${read.size}`);
    void reply.header('content-length', range.end - range.start + 1);
  } else {
    void reply.header('content-length', read.size);
  }
  return reply.send(read.body);
}

/**
 * Inline only for types a browser shows without running anything (images but SVG,
 * audio, video, PDF); everything else, HTML and SVG included (they sniff as opaque
 * bytes), is a download. The name goes in both the plain and the UTF-8 form.
 */
function disposition(name: string, variant: FileVariant, mime: string): string {
  const inline = variant === 'thumb' || isInlineSafe(mime);
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
