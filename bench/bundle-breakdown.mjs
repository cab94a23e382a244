// Where the bytes of our bundles go, per source file: minified bytes and the marginal gzip bytes (the bundle's gzip
// size minus the gzip size of the same bundle with that file's output cut out). Built exactly as bench/bundles.mjs
// builds them (esbuild, browser, ESM, minify, react external, gzip level 9). Marginal bytes do not add up to the total
// (gzip shares its window across files); they show what a file costs in the bundle as it is.
//
//   node bench/bundle-breakdown.mjs [client|react|components ...]   (default: client react)
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { browserBuild, ENTRIES } from './bundles.mjs';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Decode one source-map `mappings` string: [generated line, generated column, source index] per segment. */
function segments(mappings) {
  const out = [];
  let src = 0;
  mappings.split(';').forEach((line, lineNo) => {
    let col = 0;
    for (const seg of line.split(',')) {
      if (!seg) continue;
      const nums = [];
      let value = 0;
      let shift = 0;
      for (const ch of seg) {
        const digit = B64.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          nums.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      col += nums[0];
      if (nums.length > 1) src += nums[1];
      out.push([lineNo, col, nums.length > 1 ? src : -1]);
    }
  });
  return out;
}

async function breakdown(entry) {
  const contents = entry.contents ?? `export * as M from './${entry.file}';`;
  const r = await build({ ...browserBuild(contents), sourcemap: 'external', outfile: 'out.js' });
  const code = r.outputFiles.find((f) => f.path.endsWith('.js')).text;
  const map = JSON.parse(r.outputFiles.find((f) => f.path.endsWith('.map')).text);
  const lineStart = [0];
  for (let i = 0; i < code.length; i++) if (code[i] === '\n') lineStart.push(i + 1);
  const segs = segments(map.mappings)
    .map(([l, c, s]) => [lineStart[l] + c, s === -1 ? '(glue)' : map.sources[s].replace(/^(\.\.\/)+/, '')])
    .sort((a, b) => a[0] - b[0]);
  const owner = new Array(code.length).fill('(glue)');
  segs.forEach(([at, file], i) => owner.fill(file, at, i + 1 < segs.length ? segs[i + 1][0] : code.length));
  const total = gzipSync(code, { level: 9 }).length;
  const rows = [...new Set(owner)].map((file) => {
    let rest = '';
    let own = 0;
    for (let i = 0; i < code.length; i++) {
      if (owner[i] === file) own++;
      else rest += code[i];
    }
    return { file, min: own, gz: total - gzipSync(rest, { level: 9 }).length };
  });
  rows.sort((a, b) => b.gz - a.gz);
  console.log(`${entry.name}: ${code.length} B min, ${total} B gzip`);
  for (const row of rows) console.log(`  ${String(row.min).padStart(6)} min ${String(row.gz).padStart(6)} gz  ${row.file}`);
}

const keys = process.argv.slice(2);
for (const key of keys.length ? keys : ['client', 'react']) {
  const entry = ENTRIES.find((e) => e.ours && e.key === key);
  if (!entry) throw new Error(`unknown entry ${key} (ours: ${ENTRIES.filter((e) => e.ours).map((e) => e.key).join(', ')})`);
  await breakdown(entry);
}
