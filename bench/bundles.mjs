// Bundle sizes: esbuild (browser, ESM, minify, react external) + gzip, ours and the peers, built the same way.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');
const TMP = join(ROOT, 'bench', '.tmp');
const EXTERNAL = ['react', 'react-dom', 'react/jsx-runtime', 'react/jsx-dev-runtime', 'react-dom/client'];
/** Inputs that must never reach a browser bundle. */
const FORBIDDEN = [/node_modules\/ws\//, /node_modules\/ioredis\//, /node_modules\/@?redis/, /node_modules\/jose\/.*\/node\//, /^node:/, /src\/server\//];

/** Entries: our three, then the peers. Each entry re-exports the whole public surface as namespaces. */
export const ENTRIES = [
  // (a) as the issue lists it: the React entry's provider and every hook, with the client they run on. The entry
  // also re-exports the components, which are (b); a bundler drops them when unused (sideEffects: false).
  {
    key: 'react',
    name: 'React entry (provider, every hook, client)',
    ours: true,
    file: 'src/index.ts',
    contents: `export * as R from './src/react/index.ts';\nexport * as C from './src/client/index.ts';`,
    target: 5 * 1024,
  },
  // The whole entry, components included (no target: informative, (a) + (b) without double-counting).
  { key: 'react-all', name: 'React entry, everything (provider, hooks, components, client)', ours: true, file: 'src/index.ts' },
  { key: 'components', name: 'components', ours: true, file: 'src/components/index.ts', target: 2 * 1024 },
  { key: 'client', name: 'client alone', ours: true, file: 'src/client/index.ts', target: 3.5 * 1024 },
  // The calls entry (react-signal-service/calls) alone: with the React layer and client parts it uses (no target).
  { key: 'calls', name: 'calls entry alone (with the React and client parts it uses)', ours: true, file: 'src/calls/index.ts' },
  // What an app that calls pays on top of the React entry: (React entry + calls entry) minus the React entry.
  {
    key: 'calls-added',
    name: 'calls entry, added to the React entry (useCall, usePeerConnection, IncomingCall, VideoTile)',
    ours: true,
    file: 'src/calls/index.ts',
    contents: `export * as R from './src/index.ts';\nexport * as K from './src/calls/index.ts';`,
    minus: 'react-all',
    target: 4 * 1024,
  },
  { key: 'socket.io-client', imports: ['socket.io-client'] },
  { key: '@liveblocks/client+react', imports: ['@liveblocks/client', '@liveblocks/react'] },
  { key: 'ably+ably/react', imports: ['ably', 'ably/react'] },
  { key: '@supabase/realtime-js', imports: ['@supabase/realtime-js'] },
  { key: 'partysocket', imports: ['partysocket'] },
];

/** The esbuild options every size measurement uses (browser, ESM, minified, React external), for `contents`. */
export function browserBuild(contents) {
  return {
    stdin: { contents, resolveDir: ROOT, sourcefile: 'bench-entry.ts', loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    minify: true,
    external: EXTERNAL,
    write: false,
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
    jsx: 'automatic',
  };
}

async function sizeOf(contents) {
  const r = await build({ ...browserBuild(contents), metafile: true });
  const code = r.outputFiles[0].contents;
  const inputs = Object.keys(r.metafile.inputs);
  const out = Object.values(r.metafile.outputs)[0];
  const top = Object.entries(out.inputs)
    .map(([file, v]) => ({ file, bytes: v.bytesInOutput }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 8);
  const forbidden = inputs.filter((i) => FORBIDDEN.some((re) => re.test(i)));
  return { min: code.length, gz: gzipSync(code, { level: 9 }).length, inputs: inputs.length, forbidden, top };
}

/** Measure every entry; ours that do not exist yet are marked pending. */
export async function measureBundles() {
  mkdirSync(TMP, { recursive: true });
  const out = [];
  for (const e of ENTRIES) {
    if (e.ours) {
      if (!existsSync(join(ROOT, e.file))) {
        out.push({ ...e, pending: true });
        continue;
      }
      const size = await sizeOf(e.contents ?? `export * as M from './${e.file}';`);
      const base = e.minus ? out.find((o) => o.key === e.minus) : undefined;
      if (base) Object.assign(size, { min: size.min - base.min, gz: size.gz - base.gz, whole: { min: size.min, gz: size.gz } });
      out.push({ ...e, ...size });
    } else {
      const contents = e.imports.map((m, i) => `export * as M${i} from '${m}';`).join('\n');
      try {
        out.push({ ...e, ...(await sizeOf(contents)) });
      } catch (err) {
        out.push({ ...e, error: String(err.message ?? err).split('\n')[0] });
      }
    }
  }
  writeFileSync(join(TMP, 'bundles.json'), JSON.stringify(out, null, 2));
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await measureBundles(), null, 2));
}
