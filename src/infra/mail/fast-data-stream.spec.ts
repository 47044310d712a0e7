import fc from 'fast-check';
import { DataStream, originalTransform, passesUnchanged } from './fast-data-stream';

/** Runs chunks through a DataStream with the given transform; returns the bytes out and the counters. */
async function run(chunks: Buffer[], transform?: unknown): Promise<{ out: string; inBytes: number; outBytes: number }> {
  const ds = new DataStream() as unknown as NodeJS.ReadWriteStream & { _transform: unknown; inByteCount: number; outByteCount: number };
  if (transform) ds._transform = transform;
  const out: Buffer[] = [];
  ds.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((r) => ds.on('end', r));
  for (const c of chunks) ds.write(c);
  ds.end();
  await done;
  return { out: Buffer.concat(out).toString('latin1'), inBytes: ds.inByteCount, outBytes: ds.outByteCount };
}

describe('nodemailer DataStream fast path', () => {
  it('produces exactly what nodemailer produces, whatever the chunks', async () => {
    const chunk = fc.array(fc.constantFrom('a', '.', '\r', '\n', '\r\n', '\r\n.', 'xyz', '\r\n..'), { minLength: 1, maxLength: 12 }).map((p) => Buffer.from(p.join(''), 'latin1'));
    await fc.assert(
      fc.asyncProperty(fc.array(chunk, { maxLength: 8 }), async (chunks) => {
        expect(await run(chunks)).toEqual(await run(chunks, originalTransform));
      }),
      { numRuns: 1500 },
    );
  });

  it('passes clean CRLF text through untouched', () => {
    expect(passesUnchanged(Buffer.from('a\r\nb\r\n'), false)).toBe(true);
    expect(passesUnchanged(Buffer.from('\r\n.b'), false)).toBe(false);
    expect(passesUnchanged(Buffer.from('.b'), 0x0a)).toBe(false);
    expect(passesUnchanged(Buffer.from('\nb'), 0x0d)).toBe(true);
    expect(passesUnchanged(Buffer.from('a\nb'), false)).toBe(false);
  });
});
