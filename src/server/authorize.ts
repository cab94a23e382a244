/**
 * The per-channel access hook (`authorize` option) and how a join asks it: within `authorizeTimeoutMs`, a throw or
 * a rejection counting as a no.
 */

/** Per-channel access check. */
export type Authorize = (claims: Record<string, unknown>, channel: string) => boolean | Promise<boolean>;

/** Ask `authorize` whether `claims` may join `channel`: its answer, `false` if it threw, `'timeout'` past `ms`. */
export async function askAuthorize(authorize: Authorize, claims: Record<string, unknown>, channel: string, ms: number): Promise<boolean | 'timeout'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, ms, 'timeout')));
    return await Promise.race([Promise.resolve(authorize(claims, channel)), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
