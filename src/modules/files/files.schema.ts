import { Type } from 'typebox';
import { EnvelopeOf } from '../../http/envelope.js';

/** File ids are ULIDs; the pattern also keeps any path out of a storage lookup. */
export const FileIdParams = Type.Object({
  fileId: Type.String({ pattern: '^[0-9A-Za-z]{1,32}$' }),
});

export const UploadIdParams = Type.Object({
  uploadId: Type.String({ pattern: '^[0-9A-Za-z]{1,32}$' }),
});

/** A signed link's proof (file-links.ts); absent when the caller sends a bearer token. */
export const DownloadQuery = Type.Object({
  uid: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  expires: Type.Optional(Type.Integer({ minimum: 0 })),
  sig: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
});

const FileInfoFields = {
  fileId: Type.String(),
  name: Type.String(),
  size: Type.Integer({ description: 'bytes' }),
  mime: Type.String({ description: 'sniffed from the bytes' }),
  width: Type.Optional(Type.Integer({ description: 'images: pixels, EXIF orientation applied' })),
  height: Type.Optional(Type.Integer()),
  duration: Type.Optional(Type.Number({ description: 'voice and video: milliseconds' })),
};

export const FileView = Type.Object({
  ...FileInfoFields,
  url: Type.String({ description: 'signed download path for the caller, valid files.linkTtlSec' }),
  thumbUrl: Type.Optional(Type.String({ description: 'signed thumbnail path (images)' })),
});

export const FileResponse = EnvelopeOf(FileView);

export const FileLinkResponse = EnvelopeOf(
  Type.Object({
    ...FileView.properties,
    expiresAt: Type.Integer({ description: 'epoch milliseconds' }),
  }),
);

export const DirectUploadBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 1000 }),
  size: Type.Integer({ minimum: 1, description: 'exact byte count that will be PUT' }),
});

export const DirectUploadResponse = EnvelopeOf(
  Type.Object({
    uploadId: Type.String(),
    url: Type.String({ description: 'presigned URL to PUT the bytes to' }),
    method: Type.Literal('PUT'),
    headers: Type.Record(Type.String(), Type.String()),
    expiresAt: Type.Integer({ description: 'epoch milliseconds' }),
  }),
);
