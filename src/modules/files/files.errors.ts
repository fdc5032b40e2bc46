import { defineErrors } from '../../errors/app-error.js';

/** Files module errors (6xxxxx). */
export const FileErrors = defineErrors({
  fileNotFound: { code: 600001, status: 404, message: 'file not found' },
  fileTooLarge: { code: 600002, status: 413, message: 'file is larger than the upload limit' },
  fileTypeNotAllowed: { code: 600003, status: 415, message: 'this type of file is not accepted' },
  quotaExceeded: { code: 600004, status: 413, message: 'your storage quota is used up' },
  fileFieldMissing: {
    code: 600005,
    status: 400,
    message: 'send the file as multipart/form-data in a part named "file"',
  },
  uploadTruncated: {
    code: 600006,
    status: 400,
    message: 'the upload ended before the file was complete',
  },
  notFileOwner: {
    code: 600007,
    status: 403,
    message: 'only the uploader can send this file in a message',
  },
  fileForbidden: { code: 600008, status: 403, message: 'you may not read this file' },
  linkInvalid: { code: 600009, status: 403, message: 'the file link is invalid or has expired' },
  imageTooLarge: {
    code: 600010,
    status: 422,
    message: 'the image has more pixels than the server processes',
  },
  imageUnreadable: { code: 600011, status: 422, message: 'the image cannot be decoded' },
  attachmentInvalid: {
    code: 600012,
    status: 400,
    message: 'content of a file message must be JSON text with a fileId',
  },
  attachmentTypeMismatch: {
    code: 600013,
    status: 400,
    message: 'the file type does not fit the message type',
  },
  noThumbnail: { code: 600014, status: 404, message: 'this file has no thumbnail' },
  rangeNotSatisfiable: {
    code: 600015,
    status: 416,
    message: 'the requested range is outside the file',
  },
  uploadNotFound: { code: 600016, status: 404, message: 'upload not found' },
  uploadSizeMismatch: {
    code: 600017,
    status: 400,
    message: 'the uploaded bytes do not match the announced size',
  },
  directUploadUnavailable: {
    code: 600018,
    status: 409,
    message: 'direct uploads need S3 storage; POST /v1/files instead',
  },
  uploadAlreadyComplete: { code: 600019, status: 409, message: 'this upload is already complete' },
});
