import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Answer with JSON (`no-store`: answers carry tokens and live counts). No body for a 204 or when `head` (a HEAD
 * request); nothing at all when the answer has already started or the socket is gone. Every JSON answer the server
 * writes goes through here.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, head = false): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(head || status === 204 ? undefined : JSON.stringify(body));
}

/** Options of {@link readBody}. */
export interface ReadBodyOptions {
  /** Largest body accepted, in bytes; past it the answer is 413 and the request is destroyed at once. */
  limit: number;
  /** The whole body must arrive within this many ms, else 408. @default 10000 */
  timeoutMs?: number;
}

/**
 * Read a request body as UTF-8 text, never buffering past `limit`: a `Content-Length` over the limit is refused
 * before any byte is read, and a body that grows past it (chunked, or lying about its length) is answered 413 and
 * its connection destroyed at once (the rest is never read). A reset mid-body, a body that stalls, or an error on
 * the request settle the promise with `null` (answering when still possible); `null` means "already answered".
 * Every HTTP body the server reads goes through here.
 */
export function readBody(req: IncomingMessage, res: ServerResponse, opts: ReadBodyOptions): Promise<string | null> {
  const { limit } = opts;
  return new Promise((resolve) => {
    let done = false;
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (value: string | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      resolve(value);
    };
    const refuse = (status: number, message: string): void => {
      if (done) return;
      finish(null);
      req.pause();
      sendJson(res, status, { error: { code: status === 413 ? 'body_too_large' : 'body_timeout', message } }, { connection: 'close' });
      // The rest of the body is never read: the connection goes once the answer is out (or at once if it cannot).
      res.once('finish', () => req.destroy());
      setTimeout(() => req.destroy(), 1000).unref();
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) return refuse(413, `body larger than ${limit} bytes`);
      chunks.push(chunk);
    };
    const onEnd = (): void => finish(Buffer.concat(chunks, size).toString('utf8'));
    const timer = setTimeout(() => refuse(408, `body not received within ${opts.timeoutMs ?? 10_000} ms`), opts.timeoutMs ?? 10_000);
    timer.unref();
    req.on('error', () => finish(null)); // a reset mid-body: nobody to answer
    req.on('aborted', () => finish(null));
    res.on('error', () => {});
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return refuse(413, `body larger than ${limit} bytes`);
    req.on('data', onData);
    req.on('end', onEnd);
  });
}
