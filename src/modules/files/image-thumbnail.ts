import type { Readable } from 'node:stream';
import type { Metadata } from 'sharp';
import { AppError } from '../../errors/app-error.js';
import { FileErrors } from './files.errors.js';

/** Image types the server decodes for dimensions and a thumbnail. */
const DECODED_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/gif', 'image/avif']);

export function isDecodableImage(mime: string): boolean {
  return DECODED_TYPES.has(mime);
}

export interface ImageFacts {
  /** As displayed: EXIF orientation applied (a portrait phone photo is taller than wide). */
  width: number;
  height: number;
  /** WebP thumbnail, at most `size` px on its longer side, without EXIF/GPS metadata. */
  thumbnail: Buffer;
}

/**
 * Reads an image's dimensions and makes its thumbnail. The header is checked
 * first: an image with more than `maxPixels` pixels (a decompression bomb such as
 * a 30,000 × 30,000 PNG of a few KiB) is refused before anything is decoded, and
 * sharp's own pixel limit guards the decode as well.
 */
export async function describeImage(
  input: Readable,
  options: { maxPixels: number; size: number },
): Promise<ImageFacts> {
  // Loaded on the first image, not at start-up (a native library of some size).
  const { default: sharp } = await import('sharp');
  const bytes = await collect(input);
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new AppError(FileErrors.imageUnreadable, undefined, { cause: err });
  }
  // An animated image's frames are stacked; the thumbnail decodes the first only.
  const width = meta.width;
  const height = meta.pageHeight ?? meta.height;
  if (!width || !height) throw new AppError(FileErrors.imageUnreadable);
  if (width * height > options.maxPixels) {
    throw new AppError(
      FileErrors.imageTooLarge,
      `the image is ${width} × ${height} pixels; the limit is ${options.maxPixels}`,
    );
  }
  let thumbnail: Buffer;
  try {
    thumbnail = await sharp(bytes, { limitInputPixels: options.maxPixels })
      .rotate() // EXIF orientation; output carries no metadata unless asked (keepMetadata)
      .resize(options.size, options.size, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 75 })
      .toBuffer();
  } catch (err) {
    throw new AppError(FileErrors.imageUnreadable, undefined, { cause: err });
  }
  // Orientations 5–8 turn the picture by 90°.
  const turned = (meta.orientation ?? 1) >= 5;
  return { width: turned ? height : width, height: turned ? width : height, thumbnail };
}

/** Images are bounded by `files.maxBytes`; sharp decodes from memory fastest. */
async function collect(input: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
