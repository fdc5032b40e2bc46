import { MessageType } from '@easy-chat/sdk';
import { useEffect } from 'react';
import { useAppState } from './hooks.js';
import { store, type ChatMessage } from './store/index.js';

/** 1234567 → "1.2 MB". */
export function sizeOf(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * The body of an image, file, voice or video message. The bytes are read through
 * signed links (an `<img>` cannot send a bearer token), fetched once per file and
 * refreshed before they expire; an image still uploading shows its local preview.
 */
export function FileBody(props: {
  message: ChatMessage;
  onOpenImage: (image: { src: string; name: string }) => void;
}) {
  const { message: m } = props;
  const file = m.file!;
  const link = useAppState().links[file.fileId];
  useEffect(() => {
    if (file.fileId) store.files.ensureLink(file.fileId);
  }, [file.fileId, link?.expiresAt]);

  const uploading = m.status !== 'sent' && m.upload;
  const progress = uploading ? (
    <div className="upload" data-testid="upload-progress">
      <progress max={m.upload!.total} value={m.upload!.loaded} />
      <span>{Math.floor((100 * m.upload!.loaded) / Math.max(1, m.upload!.total))}%</span>
    </div>
  ) : null;

  if (m.mType === MessageType.image) {
    const src = m.localUrl ?? link?.thumbUrl ?? link?.url;
    const ratio = file.width && file.height ? `${file.width} / ${file.height}` : undefined;
    return (
      <div className="file-body">
        <button
          type="button"
          className="image"
          data-testid="image"
          style={{ aspectRatio: ratio }}
          disabled={!link}
          onClick={() => link && props.onOpenImage({ src: link.url, name: file.name })}
        >
          {src && <img src={src} alt={file.name} data-testid="image-thumb" />}
        </button>
        {progress}
      </div>
    );
  }
  if (m.mType === MessageType.voice && link) {
    return (
      <div className="file-body">
        <audio controls preload="metadata" src={link.url} data-testid="voice" />
      </div>
    );
  }
  if (m.mType === MessageType.video && link) {
    return (
      <div className="file-body">
        <video controls preload="metadata" src={link.url} data-testid="video" />
      </div>
    );
  }
  return (
    <div className="file-card" data-testid="file-card">
      <span className="file-icon" aria-hidden>
        📄
      </span>
      <span className="file-info">
        <span className="file-name" data-testid="file-name">
          {file.name}
        </span>
        <span className="file-size">{sizeOf(file.size)}</span>
        {progress}
      </span>
      {link && (
        <a className="file-download" href={link.url} download={file.name} data-testid="download">
          Download
        </a>
      )}
    </div>
  );
}

/** An image full size over the page; Escape, a click outside or × closes it. */
export function Lightbox(props: { src: string; name: string; onClose: () => void }) {
  const { onClose } = props;
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  return (
    <div className="lightbox" data-testid="lightbox" role="dialog" onClick={onClose}>
      <img src={props.src} alt={props.name} onClick={(e) => e.stopPropagation()} />
      <button className="lightbox-close" aria-label="Close" onClick={onClose}>
        ×
      </button>
    </div>
  );
}
