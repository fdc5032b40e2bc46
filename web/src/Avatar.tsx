import { useState } from 'react';
import { colourOf, initials } from './hooks.js';

/** Only pictures from the web or inline images: never a `javascript:` or file address. */
export function safeImageUrl(src: string | undefined): string | null {
  if (!src) return null;
  if (/^data:image\/(png|jpeg|gif|webp|svg\+xml)[;,]/i.test(src)) return src;
  try {
    const url = new URL(src);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

/** A round picture (the user's or group's image, else initials on a colour of the id). */
export function Avatar({
  id,
  name,
  online,
  src,
}: {
  id: string;
  name?: string | undefined;
  online?: boolean | undefined;
  src?: string | undefined;
}) {
  const [broken, setBroken] = useState<string | null>(null);
  const image = safeImageUrl(src);
  return (
    <span className="avatar" style={{ background: colourOf(id) }} aria-hidden="true">
      {image && broken !== image ? (
        <img
          className="avatar-img"
          src={image}
          alt=""
          data-testid="avatar-img"
          referrerPolicy="no-referrer"
          onError={() => setBroken(image)}
        />
      ) : (
        initials(name)
      )}
      {online !== undefined && (
        <span
          className={`dot ${online ? 'dot-on' : ''}`}
          data-testid={online ? 'online-dot' : undefined}
        />
      )}
    </span>
  );
}
