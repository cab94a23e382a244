/**
 * openapi.yaml against the implementation: a valid OpenAPI document; its routes are exactly the ones the server
 * serves; real answers (successes and refusals) of a real server have a documented status and match its schema.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { API_ROUTES } from '../../src/server/http-api.js';
import { startTestServer, type TestServer } from '../../src/testing/index.js';
import { RawPool } from '../compat/raw-client.js';
import { httpRequest, type HttpAnswer } from './http-api-helpers.js';

const FILE = fileURLToPath(new URL('../../openapi.yaml', import.meta.url));
const KEY = 'openapi-test-key-0123456789';
type Doc = { paths: Record<string, Record<string, { responses: Record<string, { content?: { 'application/json': { schema: object } } }> }>>; components: { responses: Record<string, { content: { 'application/json': { schema: object } } }> } };

let doc: Doc;
let srv: TestServer;
const pool = new RawPool();
const ajv = new Ajv2020({ strict: false, allErrors: true });

beforeAll(async () => {
  doc = (await SwaggerParser.dereference(FILE)) as unknown as Doc;
  srv = await startTestServer({ apiKeys: [KEY] });
});
afterAll(async () => {
  pool.closeAll();
  await srv.close();
});

/** Check one real answer against the document: its status is documented for the operation, its body fits. */
function conforms(method: string, path: string, a: HttpAnswer): void {
  const op = doc.paths[path]?.[method.toLowerCase()];
  expect(op, `${method} ${path} documented`).toBeDefined();
  const res = op!.responses[String(a.status)];
  expect(res, `${method} ${path} -> ${a.status} (${a.text.slice(0, 120)}) is documented`).toBeDefined();
  const schema = res!.content?.['application/json'].schema;
  expect(schema).toBeDefined();
  const validate = ajv.compile(schema!);
  expect(validate(a.json), `${method} ${path} ${a.status}: ${JSON.stringify(validate.errors)} for ${a.text.slice(0, 200)}`).toBe(true);
}

describe('openapi.yaml', () => {
  it('is a valid OpenAPI document', async () => {
    const api = (await SwaggerParser.validate(FILE)) as unknown as { openapi: string };
    expect(api.openapi).toMatch(/^3\./);
  });

  it('documents exactly the routes the server serves', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).filter((m) => m !== 'parameters').map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(API_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
  });

  it('every documented route exists and answers as documented (successes)', async () => {
    const bob = await pool.connect(srv.url, await srv.token('bob', 'web'));
    bob.notify('signal.join', { id: 'room', presence: true });
    bob.notify('signal.publish', { id: 'room', state: { s: 1 } });
    for (let i = 0; i < 100; i++) {
      const a = await httpRequest(srv.url, '/api/v1/channels/room/presence', { key: KEY });
      if ((a.json as { members?: { state?: unknown }[] }).members?.[0]?.state !== undefined) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const bodies: Record<string, object> = {
      '/api/v1/send': { to: 'bob', payload: { x: 1 } },
      '/api/v1/publish': { channel: 'room', payload: { x: 1 } },
      '/api/v1/unsubscribe': { target: 'nobody', channel: 'room' },
      '/api/v1/disconnect': { target: 'nobody', code: 4000, reason: 'r' },
    };
    for (const { method, path } of API_ROUTES) {
      const url = path.replace('{name}', 'room');
      const a = await httpRequest(srv.url, url, { method, key: KEY, ...(method === 'POST' ? { body: JSON.stringify(bodies[path]) } : {}) });
      expect(a.status, `${method} ${path}`).toBe(200);
      conforms(method, path, a);
      if (path.endsWith('/presence')) expect((a.json as { members: unknown[] }).members).toHaveLength(1);
      if (path.endsWith('/channels')) expect((a.json as { channels: unknown[] }).channels).toHaveLength(1);
    }
  });

  it('refusals answer with documented statuses and the documented error shape', async () => {
    for (const { method, path } of API_ROUTES) {
      const url = path.replace('{name}', 'room');
      conforms(method, path, await httpRequest(srv.url, url, { method, key: null })); // 401
      conforms(method, path, await httpRequest(srv.url, url, { method: method === 'GET' ? 'POST' : 'GET', key: KEY, ...(method === 'GET' ? { body: '{}' } : {}) })); // 405
      if (method === 'POST') {
        conforms(method, path, await httpRequest(srv.url, url, { method, key: KEY, body: '{nope' })); // 400 bad_json
        conforms(method, path, await httpRequest(srv.url, url, { method, key: KEY, body: '{}' })); // 400 missing_field
        conforms(method, path, await httpRequest(srv.url, url, { method, key: KEY, body: '{}', headers: { 'content-type': 'text/plain' } })); // 415
        conforms(method, path, await httpRequest(srv.url, url, { method, key: KEY, body: JSON.stringify({ to: 'b', target: 'b', channel: 'c', payload: { big: 'x'.repeat(70_000) } }) })); // 413
      }
    }
    conforms('GET', '/api/v1/channels/{name}/presence', await httpRequest(srv.url, '/api/v1/channels/%FF/presence', { key: KEY })); // 400
    conforms('POST', '/api/v1/send', await httpRequest(srv.url, '/api/v1/send', { method: 'POST', key: KEY, body: JSON.stringify({ to: 'b', payload: { big: 'x'.repeat(66_000) } }) })); // 413 payload_too_large
    const nf = await httpRequest(srv.url, '/api/v1/nothing', { key: KEY });
    expect(nf.status).toBe(404);
    expect(ajv.compile(doc.components.responses.NotFound!.content['application/json'].schema)(nf.json)).toBe(true);
  });
});
