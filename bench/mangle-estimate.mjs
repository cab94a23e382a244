// What mangling internal property names (Preact's way: a naming convention plus esbuild `mangleProps`) would save,
// measured on the bench/bundles.mjs entries, built the same way (browser, ESM, minify, react external, gzip 9).
// Nothing in src/ changes: the renames a landing would make are applied in memory (an esbuild onLoad plugin), and a
// renamed bundle only has to build, not work. See bench/bundle-accounting.md, "Mangling internal property names".
//
//   node bench/mangle-estimate.mjs
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import { browserBuild, ENTRIES } from './bundles.mjs';

const ROOT = resolve(import.meta.dirname, '..');

/**
 * The renames a convention (`name_`: internal) needs where an internal name collides with a public one (the phase's
 * `name`/`ws`/`jwt` beside `Channel.name` and `AccessToken.jwt`; the connection's and the outbox's `connect`, `close`,
 * `request`, `call`, `open`, `length` beside the Signal's and the DOM's). Names with no public twin need no rename to
 * be mangled and are listed in INTERNAL instead.
 */
const RENAMES = {
  'src/client/phase.ts': [[/\bname\b/g, 'name_'], [/\bws\b/g, 'ws_'], [/\bjwt\b/g, 'jwt_']],
  'src/client/connection.ts': [
    [/\b(phase|p|prev|next)\.name\b/g, '$1.name_'],
    [/\b(phase|p)\.(ws|jwt)\b/g, '$1.$2_'],
    [/\{ type: ('[a-z-]+'), ws \}/g, '{ type: $1, ws_: ws }'],
    [/type: 'dial', ws, jwt \}/, "type: 'dial', ws_: ws, jwt_: jwt }"],
    [/ws: p\.ws_, from: p\.jwt_/, 'ws_: p.ws_, from: p.jwt_'],
    [/\boutbox\.(call|control|request|urgent|open|pause|drop|adopt|length)\b/g, 'outbox.$1_'],
    [/get phase\(\)/, 'get phase_()'],
    [/\n {4}outbox,\n {4}connect,\n {4}close\(\)/, '\n    outbox_: outbox,\n    connect_: connect,\n    close_()'],
    [/\n {4}request,\n {4}watch: /, '\n    request_: request,\n    watch_: '],
    [/\n {4}tokenChanged,\n {2}\};/, '\n    tokenChanged_: tokenChanged,\n  };'],
  ],
  'src/client/signal.ts': [
    [/\b(p|prev|next)\.name\b/g, '$1.name_'],
    [/(#conn|\bconn)\.(phase|outbox|connect|close|request|watch|tokenChanged)\b/g, '$1.$2_'],
    [/\boutbox_\.(call|length)\b/g, 'outbox_.$1_'],
  ],
  'src/client/channel.ts': [
    [/(#conn|\bconn)\.(phase|outbox|request)\b/g, '$1.$2_'],
    [/phase_\.name\b/g, 'phase_.name_'],
    [/\boutbox_\.(call|control)\b/g, 'outbox_.$1_'],
  ],
  'src/client/outbox.ts': [
    [/get length\(\)/, 'get length_()'],
    [/\n {4}(call|control|urgent|open|pause|drop|adopt)\(/g, '\n    $1_('],
    [/\n {4}request: \(text\)/, '\n    request_: (text)'],
  ],
};

/** Internal names with no public, wire, DOM or React twin: mangled as they are (a landing would add the `_`). */
const INTERNAL = {
  // client: the connection's parts (outbox link, keepalive, requests, token fetch, reconnect context), frame parsing,
  // phases, the Channel's and Participant's @internal members, METHOD keys that are no wire name
  client: 'outbox isOpen tokenChanged resumable phase again why mayReconnect unsubscribed report note enabled drop control tries tokenExpired canFetch stop start probe alive expect accepts urgent settle run rejectAll pause adopt waiting kind response joinBack refresh watch sendTo _join _setState _onDisconnect _onClosed _onFrame _message _dispose',
  // react: provider holder, hub, channel entries (some of these may well be public: an upper bound)
  react: 'ownToken detach attach destroy acquire hold byId myState notifyTyping stopTyping',
  // calls: negotiator and component internals (the same caveat)
  calls: 'negotiator polite waitForOffer getName renderItem',
};

export const VARIANTS = [
  { key: 'as is' },
  { key: 'the @internal `_x` members only (no rename)', mangle: /^_[a-z][A-Za-z]*$/ },
  {
    key: 'internal names by convention (renames + every internal name)',
    renames: true,
    mangle: new RegExp(`^([a-z][A-Za-z0-9]*_|${Object.values(INTERNAL).join(' ').split(' ').join('|')})$`),
  },
  { key: 'ceiling: every property name, public, wire and DOM ones too (does not work)', mangle: /./ },
];

export const renamePlugin = {
  name: 'renames',
  setup(b) {
    b.onLoad({ filter: /\/src\/client\/(phase|connection|signal|channel|outbox)\.ts$/ }, (args) => {
      let text = readFileSync(args.path, 'utf8');
      for (const [re, to] of RENAMES[args.path.slice(ROOT.length + 1)] ?? []) {
        const before = text;
        text = text.replace(re, to);
        if (text === before) throw new Error(`rename ${re} found nothing in ${args.path}`);
      }
      return { contents: text, loader: 'ts' };
    });
  },
};

async function gz(contents, v) {
  const r = await build({
    ...browserBuild(contents),
    ...(v.mangle ? { mangleProps: v.mangle, mangleQuoted: true } : {}),
    plugins: v.renames ? [renamePlugin] : [],
  });
  return gzipSync(r.outputFiles[0].contents, { level: 9 }).length;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const ours = ENTRIES.filter((e) => e.ours);
  const rows = [];
  for (const v of VARIANTS) {
    const row = { variant: v.key };
    for (const e of ours) {
      row[e.key] = await gz(e.contents ?? `export * as M from './${e.file}';`, v);
      if (e.minus) row[e.key] -= row[e.minus];
    }
    rows.push(row);
  }
  const keys = ours.map((e) => e.key);
  console.log(`| variant | ${keys.join(' | ')} |\n| --- |${keys.map(() => ' ---: |').join('')}`);
  for (const r of rows) {
    const cells = keys.map((k) => (r === rows[0] ? String(r[k]) : `${r[k]} (${r[k] - rows[0][k] >= 0 ? '+' : ''}${r[k] - rows[0][k]})`));
    console.log(`| ${r.variant} | ${cells.join(' | ')} |`);
  }
}
