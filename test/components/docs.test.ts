// @vitest-environment node
// The Storybook docs tables of the components, as Storybook builds them: react-docgen on the source (as
// @storybook/react-vite's docgen plugin runs it), then Storybook's own JSDoc and prop extraction.
import { readFileSync } from 'node:fs';
import { builtinHandlers, builtinResolvers, parse } from 'react-docgen';
import { extractComponentProps } from 'storybook/internal/docs-tools';
import { describe, expect, it } from 'vitest';

function table(file: string): Map<string, { description: string; defaultValue: { summary?: string } | null }> {
  const path = new URL(`../../src/components/${file}`, import.meta.url);
  const [info] = parse(readFileSync(path, 'utf8'), {
    filename: path.pathname,
    resolver: new builtinResolvers.FindExportedDefinitionsResolver(),
    handlers: Object.values(builtinHandlers),
  });
  const rows = extractComponentProps({ __docgenInfo: info } as never, 'props') as unknown as {
    propDef: { name: string; description: string; defaultValue: { summary?: string } | null };
  }[];
  return new Map(rows.map((r) => [r.propDef.name, r.propDef]));
}

describe('docs tables', () => {
  for (const file of ['presence-list.tsx', 'typing-indicator.tsx']) {
    it(`${file}: descriptions are plain text (no @default left inline, no HTML-looking tags), defaults are short values`, () => {
      const rows = table(file);
      expect(rows.size).toBeGreaterThan(3);
      for (const [name, row] of rows) {
        // Markdown would render `<channel>` as an unknown HTML element (dropped, with a console error).
        const outsideCode = row.description.replace(/`[^`]*`/g, '');
        expect(outsideCode, name).not.toMatch(/<[a-z]/i);
        expect(row.description, name).not.toContain('@default');
        // A destructuring default that names a function dumps the function's source into the table.
        const summary = row.defaultValue?.summary ?? '';
        expect(summary.length, name).toBeLessThan(30);
        expect(summary, name).not.toMatch(/function|=>|\{/);
      }
    });
  }

  it('PresenceList: label reads "Accessible name of the list." (was "… @default "Participants in "")', () => {
    const rows = table('presence-list.tsx');
    expect(rows.get('label')!.description).toBe('Accessible name of the list.');
    expect(rows.get('getName')!.description).toBe('Display name of an entry.');
    expect(rows.get('getName')!.defaultValue).toBeNull();
    expect(rows.get('showMe')!.defaultValue?.summary).toBe('true');
  });
});
