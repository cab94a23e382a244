/**
 * The webhook options of `serve`: `--webhook` repeated, `SIGNAL_WEBHOOK_SECRET`, `--webhook-state`, the secret and
 * secret-looking URL parameters redacted by --print-config, and a URL without a secret refused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { exitOf, killAll, run } from './run.js';

afterEach(() => killAll());

describe('serve: webhook options', () => {
  it('--webhook repeated adds up; the secret comes from SIGNAL_WEBHOOK_SECRET; --print-config redacts it', async () => {
    const r = run(['serve', '--print-config', '--webhook', 'http://127.0.0.1:9/a', '--webhook=http://127.0.0.1:9/b?token=xyz', '--webhook-state'], {
      SIGNAL_WEBHOOK_SECRET: 'whsec_c2VjcmV0LXZhbHVlLWhlcmU=',
    });
    expect((await exitOf(r)).code).toBe(0);
    const cfg = JSON.parse(r.out()) as { webhook: { urls: string[]; secret: string; state: boolean } };
    expect(cfg.webhook.urls).toEqual(['http://127.0.0.1:9/a', 'http://127.0.0.1:9/b?token=[redacted]']);
    expect(cfg.webhook.secret).toBe('[redacted]');
    expect(cfg.webhook.state).toBe(true);
    expect(r.out()).not.toContain('c2VjcmV0');
    expect(r.out()).not.toContain('xyz');
  });

  it('SIGNAL_WEBHOOK_URLS lists URLs with commas', async () => {
    const r = run(['serve', '--print-config', '--webhook-secret', 's'], { SIGNAL_WEBHOOK_URLS: 'http://127.0.0.1:9/a,http://127.0.0.1:9/b' });
    expect((await exitOf(r)).code).toBe(0);
    expect((JSON.parse(r.out()) as { webhook: { urls: string[] } }).webhook.urls).toEqual(['http://127.0.0.1:9/a', 'http://127.0.0.1:9/b']);
  });

  it('a URL without a secret, or a URL that is not http(s), is a usage error (exit 2)', async () => {
    const a = run(['serve', '--webhook', 'http://127.0.0.1:9/a']);
    expect((await exitOf(a)).code).toBe(2);
    expect(a.err()).toMatch(/webhook\.secret is required with --webhook/);
    const b = run(['serve', '--webhook', 'ftp://example/x', '--webhook-secret', 's']);
    expect((await exitOf(b)).code).toBe(2);
    expect(b.err()).toMatch(/--webhook/);
  });
});
