/** `serve --help`, generated from the schema: every option with its flag, variable, file key, type and default. */
import { CONFIG_ENV, defaultOf, expects, leaves, type Leaf } from './config.js';

const WIDTH = 110;
const COL = 31;

/** `text` wrapped at {@link WIDTH}, every line but the first indented by `indent`. */
function wrap(text: string, first: number, indent: number): string {
  const lines: string[] = [];
  let line = '';
  let room = WIDTH - first;
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
      room = WIDTH - indent;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`).replace(/\u00a0/g, ' ');
}

function entry(names: string, help: string, extra?: string): string {
  const head = `  ${names}`;
  const pad = head.length < COL ? head.padEnd(COL) : `${head}\n${' '.repeat(COL)}`;
  return `${pad}${wrap(help, COL, COL)}${extra ? `\n${' '.repeat(COL)}${wrap(extra, COL, COL)}` : ''}\n`;
}

function defaultText(leaf: Leaf): string {
  if (leaf.meta.defaultText) return leaf.meta.defaultText;
  const d = defaultOf(leaf.schema);
  return d === undefined ? '' : typeof d === 'string' ? d : JSON.stringify(d);
}

function option(leaf: Leaf): string {
  const boolean = expects(leaf, false) === 'true or false';
  const names = leaf.flags.map((f) => `--${f}`).join(', ') + (boolean ? '' : ` ${leaf.meta.metavar ?? 'V'}`);
  const d = defaultText(leaf);
  // The default is never split across lines.
  const help = `${leaf.meta.help}${d ? ` [default: ${d}]`.replace(/(?<=.) /g, '\u00a0') : ''}`;
  let where: string;
  if (boolean) {
    const on = !leaf.meta.inverted;
    where = `${leaf.env}=1 · file "${leaf.key}": ${on}`;
  } else {
    where = `${[leaf.env, ...(leaf.meta.envAliases ?? [])].join(', ')} · file "${leaf.key}" · ${expects(leaf, true)}`;
  }
  return entry(names, help, where);
}

/** The whole `--help` text. */
export function helpText(): string {
  let out = `Usage: react-signal-service serve [options]
       react-signal-service --version | --help

Start a signal server (Bit6 Signal v2 protocol) on ws + http.

${wrap(
  'Every option is a flag, a SIGNAL_* environment variable and a key of the config file (each option\'s second line ' +
    'names the last two), with one precedence: flags > environment > config file > defaults. The file\'s keys are ' +
    "createSignalServer's option names.",
  0,
  0,
)}

`;
  out += entry(
    '--config FILE',
    'read options from a JSON file (YAML when it ends in .yaml or .yml), e.g. {"secret": "…", "limits": {"maxFrameBytes": 65536}, "redis": {"url": "redis://…"}}; a relative path in it (publicKey, jwks) is taken from its folder',
    CONFIG_ENV,
  );
  out += entry('--print-config', 'print the effective configuration as JSON (secrets redacted) and exit');
  out += entry('--version', 'print the version and exit');
  out += entry('-h, --help', 'show this help');
  let group: string | undefined;
  for (const leaf of leaves) {
    const section = leaf.meta.section ?? (leaf.group && leaf.group.key !== group ? leaf.group.meta : undefined);
    group = leaf.group?.key;
    if (section) {
      out += `\n${section.title}:\n`;
      for (const note of section.notes ?? []) out += `  ${wrap(note, 2, 2)}\n`;
    }
    out += option(leaf);
  }
  out += `\nEndpoints: ws /signal/v1/pubsub?jwt=…, ws /signal/pubsub?jwt=…, GET|HEAD /healthz, GET /readyz, GET /metrics (with metrics on), POST /token (with --dev-tokens).\n`;
  out += `${wrap('Signals: SIGTERM drains (/readyz 503, new upgrades refused, connections closed with 1012 over --drain-ms; --drain-ms 0: every connection closed at once with 1001); SIGINT closes at once with 1001; a second SIGTERM or SIGINT exits at once (code 1).', 0, 0)}\n`;
  return out;
}
