// The calls entry's bundle size, measured as bench/bundles.mjs does (rows calls-added, calls): `node bench/calls-size.mjs`;
// `-v`: bytes per input module (minified, before gzip); `-c`: the minified calls entry.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
const ROOT = process.cwd();
const EXTERNAL = ['react', 'react-dom', 'react/jsx-runtime', 'react/jsx-dev-runtime', 'react-dom/client'];
async function b(contents) {
  const r = await build({ stdin: { contents, resolveDir: ROOT, sourcefile: 'e.ts', loader: 'ts' }, bundle: true, format: 'esm', platform: 'browser', minify: true, external: EXTERNAL, write: false, metafile: true, logLevel: 'silent', define: { 'process.env.NODE_ENV': '"production"' }, jsx: 'automatic' });
  const code = r.outputFiles[0].text;
  return { code, gz: gzipSync(code, { level: 9 }).length, min: code.length, out: Object.values(r.metafile.outputs)[0] };
}
const base = await b(`export * as M from './src/index.ts';`);
const all = await b(`export * as R from './src/index.ts';\nexport * as K from './src/calls/index.ts';`);
const alone = await b(`export * as M from './src/calls/index.ts';`);
console.log('calls-added gz', all.gz - base.gz, 'min', all.min - base.min, '| alone gz', alone.gz, 'min', alone.min, '| main entry gz', base.gz);
if (process.argv[2] === '-v') {
  for (const [f, v] of Object.entries(alone.out.inputs).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput)) console.log(String(v.bytesInOutput).padStart(6), f);
}
if (process.argv[2] === '-c') console.log(alone.code);
