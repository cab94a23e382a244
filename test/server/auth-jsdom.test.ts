// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { createVerifier, signAccessToken } from '../../src/server/auth.js';

describe('token signing under jsdom (users test with it)', () => {
  it('signs and verifies with a string secret', async () => {
    const jwt = await signAccessToken({ secret: 's3cret', identity: 'alice', device: 'web', audience: 'http://127.0.0.1:1' });
    const tok = await createVerifier({ secret: 's3cret' })(jwt);
    expect(tok).toMatchObject({ identity: 'alice', device: 'web' });
  });
});
