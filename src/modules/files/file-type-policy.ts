import { fileTypeFromBuffer } from 'file-type';

/** What a file's first bytes say it is, when nothing recognisable: opaque bytes. */
export const OPAQUE_TYPE = 'application/octet-stream';

/** How many leading bytes the sniffer needs (file-type reads at most this many). */
export const SNIFF_BYTES = 4100;

/**
 * The type of a file, from its first bytes: never the client's word. Text formats
 * (plain text, HTML, SVG, JSON) carry no magic number and come out opaque, which is
 * what keeps a stored HTML or SVG file from ever being served as a page.
 */
export async function sniffType(head: Buffer): Promise<string> {
  const found = await fileTypeFromBuffer(head);
  return found?.mime ?? OPAQUE_TYPE;
}

/** Whether `mime` matches one of the patterns (`image/*`, `application/vnd.oasis.*`, `application/pdf`). */
export function isAllowedType(mime: string, patterns: readonly string[]): boolean {
  return patterns.some((p) =>
    p === '*/*' ? true : p.endsWith('*') ? mime.startsWith(p.slice(0, -1)) : mime === p,
  );
}

/**
 * Types a browser may show in place (`Content-Disposition: inline`); the rest is
 * offered as a download. Only types the sniffer recognised can be here, and none
 * of them runs script.
 */
export function isInlineSafe(mime: string): boolean {
  if (mime === 'image/svg+xml') return false;
  return (
    /^image\/(png|jpeg|gif|webp|avif|bmp)$/.test(mime) ||
    mime.startsWith('audio/') ||
    mime.startsWith('video/') ||
    mime === 'application/pdf'
  );
}

/** Which files a message type may carry: an image message an image, and so on. */
export function fitsMessageType(mType: number, mime: string): boolean {
  switch (mType) {
    case 1:
      return mime.startsWith('image/');
    case 4:
      return mime.startsWith('audio/') || mime === 'video/webm' || mime === 'video/mp4';
    case 5:
      return mime.startsWith('video/');
    default:
      return true;
  }
}

/**
 * A display name from a client's file name: no directories (either slash), no
 * control characters, at most 255 characters. The name is only shown and sent in
 * Content-Disposition; storage paths are made from ids.
 */
export function cleanFileName(raw: string | undefined): string {
  const base = (raw ?? '').split(/[/\\]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const cleaned = base.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  const name = cleaned === '.' || cleaned === '..' ? '' : cleaned;
  return [...(name || 'file')].slice(0, 255).join('');
}
