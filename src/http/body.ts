import type { IncomingMessage } from 'node:http';

/** A request body over its route's limit; each route answers it with its own 413. */
export class BodyTooLarge extends Error {
  override name = 'BodyTooLarge';
}

/** Reads a request body as UTF-8, refusing one over `maxBytes` (by its Content-Length at once, else as it streams in). */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
