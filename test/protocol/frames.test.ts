/**
 * The codec fed with frames directly: properties (fast-check) that parsing never throws and always
 * returns a verdict, plus the exact verdicts for the frames the SDK sends.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addressMatches,
  DEFAULT_LIMITS,
  encodeCall,
  ERROR,
  parseAddress,
  parseClientFrame,
  parseServerFrame,
  parseSubject,
} from '../../src/protocol/index.js';

const opts = { maxChannelNameLength: DEFAULT_LIMITS.maxChannelNameLength };
const KINDS = new Set(['ping', 'call', 'error']);
const CODES = new Set<number>(Object.values(ERROR));

/** Arbitrary JSON-RPC-ish objects: right or wrong in every field. */
const frameLike = fc.record(
  {
    jsonrpc: fc.oneof(fc.constant('2.0'), fc.jsonValue()),
    method: fc.oneof(fc.constantFrom('signal.send', 'signal.join', 'signal.leave', 'signal.publish', 'signal.join_back', 'x'), fc.jsonValue()),
    params: fc.oneof(
      fc.record(
        { to: fc.oneof(fc.string(), fc.jsonValue()), id: fc.oneof(fc.string({ maxLength: 300 }), fc.jsonValue()), presence: fc.jsonValue() },
        { requiredKeys: [] },
      ),
      fc.jsonValue(),
    ),
    id: fc.oneof(fc.integer(), fc.string({ maxLength: 80 }), fc.jsonValue()),
  },
  { requiredKeys: [] },
);

describe('parseClientFrame (properties)', () => {
  it('never throws on any string and always returns a verdict', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v) ?? 'undefined')), (text) => {
        const r = parseClientFrame(text, opts);
        expect(KINDS.has(r.kind)).toBe(true);
        if (r.kind === 'error') {
          expect(CODES.has(r.error.code)).toBe(true);
          expect(typeof r.error.message).toBe('string');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('on frame-like objects: a call always has a valid method, an object params and a usable channel id', () => {
    fc.assert(
      fc.property(frameLike, (obj) => {
        const r = parseClientFrame(JSON.stringify(obj), opts);
        expect(KINDS.has(r.kind)).toBe(true);
        if (r.kind === 'call') {
          const { call } = r;
          expect(['signal.send', 'signal.join', 'signal.leave', 'signal.publish']).toContain(call.method);
          expect(typeof call.params).toBe('object');
          const id = (call.params as { id?: unknown }).id;
          if (call.method === 'signal.send') {
            expect(typeof call.params.to).toBe('string');
            expect(id === undefined || (typeof id === 'string' && id.length >= 1 && id.length <= 256)).toBe(true);
          } else {
            expect(typeof id === 'string' && id.length >= 1 && id.length <= 256).toBe(true);
          }
          if (call.id !== undefined) expect(['string', 'number']).toContain(typeof call.id);
        } else if (r.kind === 'error' && r.error.id !== undefined) {
          // A request's error names its id, so it is answered as a JSON-RPC error.
          expect(r.error.id).toEqual((JSON.parse(JSON.stringify(obj)) as { id?: unknown }).id);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('exact verdicts for the SDK frames and the classic bad ones', () => {
    expect(parseClientFrame('_ping', opts)).toEqual({ kind: 'ping' });
    expect(parseClientFrame(encodeCall('signal.send', { to: 'bob', text: 'hi' }), opts)).toEqual({
      kind: 'call',
      call: { jsonrpc: '2.0', method: 'signal.send', params: { to: 'bob', text: 'hi' } }, // the parsed object itself
    });
    expect(parseClientFrame(encodeCall('signal.join', { id: 'room', presence: true }, 4), opts)).toEqual({
      kind: 'call',
      call: { jsonrpc: '2.0', method: 'signal.join', params: { id: 'room', presence: true }, id: 4 },
    });
    const code = (text: string) => {
      const r = parseClientFrame(text, opts);
      return r.kind === 'error' ? r.error.code : r.kind;
    };
    expect(code('{')).toBe(ERROR.PARSE);
    expect(code('[]')).toBe(ERROR.INVALID_REQUEST);
    expect(code('"x"')).toBe(ERROR.INVALID_REQUEST);
    expect(code('{"method":"nope","params":{}}')).toBe(ERROR.METHOD_NOT_FOUND);
    expect(code('{"method":"signal.send","params":{}}')).toBe(ERROR.INVALID_PARAMS);
    expect(code('{"method":"signal.join","params":{"id":""}}')).toBe(ERROR.INVALID_PARAMS);
    expect(code(`{"method":"signal.join","params":{"id":"${'x'.repeat(257)}"}}`)).toBe(ERROR.INVALID_PARAMS);
    expect(code('{"method":"signal.publish","params":{"id":5}}')).toBe(ERROR.INVALID_PARAMS);
    expect(code('{"method":"signal.send","params":{"to":"a"},"id":{}}')).toBe(ERROR.INVALID_REQUEST);
    expect(code('{"method":"signal.send","params":{"to":"a"},"id":null}')).toBe('call');
    expect(code('{"method":"signal.send","params":{"to":"a"},"id":"' + 'i'.repeat(65) + '"}')).toBe(ERROR.INVALID_REQUEST);
  });
});

describe('parseAddress / parseSubject / addressMatches (properties)', () => {
  const part = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !s.includes('/'));

  it('never throws; returns null or an address that joins back to the input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 600 }), fc.jsonValue(), fc.constant(undefined)), (v) => {
        const a = parseAddress(v);
        if (a === null) return;
        expect(typeof v).toBe('string');
        expect([a.identity, a.device, a.route].filter((x) => x !== undefined).join('/')).toBe(v);
        expect(a.identity.length).toBeGreaterThan(0);
        expect(parseSubject(v) === null || (a.device !== undefined && a.route === undefined)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('an endpoint is matched by its identity, its identity/device and its full address, and by nothing else of those forms', () => {
    fc.assert(
      fc.property(part, part, part, part, (identity, device, route, other) => {
        const ep = parseAddress(`${identity}/${device}/${route}`)!;
        expect(ep).toEqual({ identity, device, route });
        expect(addressMatches(parseAddress(identity)!, ep)).toBe(true);
        expect(addressMatches(parseAddress(`${identity}/${device}`)!, ep)).toBe(true);
        expect(addressMatches(ep, ep)).toBe(true);
        if (other !== identity) expect(addressMatches(parseAddress(other)!, ep)).toBe(false);
        if (other !== device) expect(addressMatches(parseAddress(`${identity}/${other}`)!, ep)).toBe(false);
        if (other !== route) expect(addressMatches(parseAddress(`${identity}/${device}/${other}`)!, ep)).toBe(false);
      }),
    );
  });

  it('exact cases', () => {
    expect(parseAddress('alice')).toEqual({ identity: 'alice' });
    expect(parseAddress('alice/web/r1')).toEqual({ identity: 'alice', device: 'web', route: 'r1' });
    for (const bad of ['', '/', 'a/', '/a', 'a//b', 'a/b/c/d', 'x'.repeat(513), 5, null]) expect(parseAddress(bad)).toBeNull();
    expect(parseSubject('alice/web')).toEqual({ identity: 'alice', device: 'web' });
    expect(parseSubject('alice')).toBeNull();
    expect(parseSubject('alice/web/r')).toBeNull();
  });
});

describe('parseServerFrame (property)', () => {
  it('never throws and always returns a verdict', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), frameLike.map((o) => JSON.stringify(o))), (text) => {
        const r = parseServerFrame(text);
        expect(['pong', 'notification', 'response', 'invalid']).toContain(r.kind);
      }),
      { numRuns: 2000 },
    );
  });
});
