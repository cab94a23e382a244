// @vitest-environment node
// `npm start` (scripts/start.mjs) serves the components' Storybook: it prints the URL Storybook really took, also
// when the port asked for was busy. The whole script against a real Storybook runs in test/browser/npm-start.browser.ts.
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';

interface StartScript {
  freePort(host: string, preferred: number, tries?: number): Promise<number>;
  storybookUrlOf(line: string, host: string): string | undefined;
}
// A plain .mjs without types; importing it runs nothing (the script starts only when run as the main module).
const start = async (): Promise<StartScript> => (await import(new URL('../../scripts/start.mjs', import.meta.url).href)) as StartScript;

const held: Server[] = [];
afterEach(async () => {
  for (const s of held.splice(0)) await new Promise((r) => s.close(r));
});

/** Hold a loopback port (like a Storybook already running on it). */
function hold(port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => {
      held.push(s);
      resolve((s.address() as { port: number }).port);
    });
  });
}

describe('npm start (scripts/start.mjs)', () => {
  it('reads the URL from Storybook\'s own "Local:" line, not from the port it asked for', async () => {
    const { storybookUrlOf } = await start();
    // Storybook 10's box, with colours, after it moved from a busy 6006 to 6007.
    const line = '\x1b[35m│\x1b[39m   - Local:                http://127.0.0.1:6007/   \x1b[35m│\x1b[39m';
    expect(storybookUrlOf(line, '127.0.0.1')).toBe('http://127.0.0.1:6007/');
    expect(storybookUrlOf('  Local:            http://localhost:6008/', '127.0.0.1')).toBe('http://127.0.0.1:6008/');
    expect(storybookUrlOf('  Local:            http://127.0.0.1:6009/', '0.0.0.0')).toBe('http://127.0.0.1:6009/');
    expect(storybookUrlOf('Storybook ready!', '127.0.0.1')).toBeUndefined();
    expect(storybookUrlOf('- On your network:      http://10.0.0.2:6006/', '127.0.0.1')).toBeUndefined();
  });

  it('keeps the port asked for when it is free, and picks a free one when it is busy', async () => {
    const { freePort } = await start();
    const busy = await hold();
    const other = await freePort('127.0.0.1', busy);
    expect(other).not.toBe(busy);
    await hold(other); // it really was free
    // A free port is kept as asked.
    const released = await hold();
    await new Promise((r) => held.pop()!.close(r));
    expect(await freePort('127.0.0.1', released)).toBe(released);
  });
});
