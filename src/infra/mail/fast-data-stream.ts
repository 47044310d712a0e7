import DataStream from 'nodemailer/lib/smtp-connection/data-stream';

/**
 * A fast path for nodemailer's SMTP DATA stream (it dot-stuffs and normalises line breaks with a
 * JavaScript loop over every byte: ~1.5 ms of CPU per 80 KB email, the largest single cost of
 * sending a pre-built message). A chunk that needs no change — every LF preceded by CR, every CR
 * followed by LF, no line starting with a dot — is found with native `indexOf` searches (one
 * step per line, not per byte) and passed through as is; any other chunk goes through
 * nodemailer's own code. The output is byte for byte nodemailer's (fast-data-stream.spec.ts).
 * Messages built by `buildMime` never start a line with a dot, so they always take the fast path.
 */
type Transform = (this: DataStreamState, chunk: unknown, encoding: BufferEncoding, done: (err?: Error | null) => void) => void;
interface DataStreamState {
  lastByte: number | false;
  inByteCount: number;
  outByteCount: number;
  push(chunk: Buffer): boolean;
}

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;

/** True when nodemailer's transform would pass `chunk` through unchanged. */
export function passesUnchanged(chunk: Buffer, lastByte: number | false): boolean {
  const len = chunk.length;
  const first = chunk[0];
  if (lastByte === CR && first !== LF) return false;
  if (first === LF && lastByte !== CR) return false;
  if (first === DOT && (lastByte === LF || lastByte === false)) return false;
  for (let i = chunk.indexOf(LF); i !== -1; i = chunk.indexOf(LF, i + 1)) {
    if ((i === 0 ? lastByte : chunk[i - 1]) !== CR) return false;
    if (i + 1 < len && chunk[i + 1] === DOT) return false;
  }
  for (let i = chunk.indexOf(CR); i !== -1; i = chunk.indexOf(CR, i + 1)) {
    if (i + 1 < len && chunk[i + 1] !== LF) return false;
  }
  return true;
}

const proto = (DataStream as unknown as { prototype: { _transform: Transform; __paperboyFastPath?: Transform } }).prototype;

/** nodemailer's own transform (kept for chunks that need changes, and for the equivalence test). */
export const originalTransform: Transform = proto.__paperboyFastPath ?? proto._transform;

if (!proto.__paperboyFastPath && typeof proto._transform === 'function') {
  proto.__paperboyFastPath = proto._transform;
  proto._transform = function fastTransform(this: DataStreamState, chunk, encoding, done) {
    if (Buffer.isBuffer(chunk) && chunk.length > 0 && typeof this.lastByte !== 'undefined' && passesUnchanged(chunk, this.lastByte)) {
      this.inByteCount += chunk.length;
      this.outByteCount += chunk.length;
      this.lastByte = chunk[chunk.length - 1];
      this.push(chunk);
      done();
      return;
    }
    originalTransform.call(this, chunk, encoding, done);
  };
}

export { DataStream };
