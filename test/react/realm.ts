import { TextDecoder as NodeTextDecoder, TextEncoder as NodeTextEncoder } from 'node:util';

// Under vitest's jsdom environment TextEncoder returns Uint8Arrays of another realm, which jose (signing
// test tokens in src/server/auth.ts) refuses with "must be … Uint8Array. Received an instance of Uint8Array".
class SameRealmTextEncoder extends NodeTextEncoder {
  override encode(input?: string): Uint8Array<ArrayBuffer> {
    return new Uint8Array(super.encode(input));
  }
}
globalThis.TextEncoder = SameRealmTextEncoder as unknown as typeof TextEncoder;
globalThis.TextDecoder = NodeTextDecoder as unknown as typeof TextDecoder;
