/** The CLI's logger: pino, JSON lines on stdout, or pretty (pino-pretty) for people; `auto`: pretty on a terminal. */
import type { Logger } from '../server/log.js';

export async function createLogger(level: string, format: 'json' | 'pretty' | 'auto'): Promise<{ log: Logger }> {
  const { pino } = await import('pino');
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  const base = { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  if (!pretty) return { log: pino(base, pino.destination({ dest: 1, sync: true })) };
  const { default: prettyStream } = await import('pino-pretty');
  return { log: pino(base, prettyStream({ colorize: process.stdout.isTTY === true, sync: true, ignore: 'pid' })) };
}
