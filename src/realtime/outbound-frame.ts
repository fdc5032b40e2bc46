/**
 * One server frame on its way to many sockets, encoded once: the text, its UTF-8
 * bytes, and the whole WebSocket frame (RFC 6455 §5.2 header + payload) ready to be
 * written as it is. A group push to 10,000 sockets would otherwise be UTF-8 encoded
 * and framed by `ws` 10,000 times, each frame leaving as two writes joined by a cork
 * (header, then payload); here each socket gets the same bytes in one write.
 */
export class OutboundFrame {
  private payloadBytes: Buffer | undefined;
  private wireBytes: Buffer | undefined;

  constructor(readonly text: string) {}

  /** The UTF-8 of the text (what `ws.send` takes). */
  get payload(): Buffer {
    return (this.payloadBytes ??= Buffer.from(this.text));
  }

  /** The whole frame as a server sends it: FIN, text opcode, unmasked, no extension bits. */
  get wire(): Buffer {
    // The text's UTF-8 is written straight after the header: no payload buffer to copy.
    return (this.wireBytes ??=
      this.payloadBytes === undefined
        ? encodeTextFrameOf(this.text)
        : encodeTextFrame(this.payloadBytes));
  }
}

/** FIN + opcode 1 (text). Server frames are never masked (RFC 6455 §5.1). */
const FIN_TEXT = 0x81;

/** A complete unmasked text frame around `payload`, in one buffer. */
export function encodeTextFrame(payload: Buffer): Buffer {
  const frame = frameWithHeader(payload.length);
  payload.copy(frame, frame.length - payload.length);
  return frame;
}

/** The same frame made from the text: its UTF-8 written in place after the header. */
function encodeTextFrameOf(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const frame = frameWithHeader(length);
  frame.write(text, frame.length - length);
  return frame;
}

/** A buffer for a text frame with a payload of `length` bytes, its header written. */
function frameWithHeader(length: number): Buffer {
  // The payload length takes 7 bits, or 126 + 16 bits, or 127 + 64 bits (§5.2).
  const headerLength = length < 126 ? 2 : length < 0x10000 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = FIN_TEXT;
  if (length < 126) {
    frame[1] = length;
  } else if (length < 0x10000) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  return frame;
}
