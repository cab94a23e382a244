// @vitest-environment jsdom
import { version } from 'react';
import { version as domVersion } from 'react-dom';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';

describe('React version under test', () => {
  it('react and react-dom are the expected major (19 at the root, 18 via scripts/test-react18.mjs)', () => {
    const want = process.env.RSS_REACT_MAJOR ?? '19';
    expect(version.split('.')[0]).toBe(want);
    expect(domVersion.split('.')[0]).toBe(want);
    expect(renderToString(<b>ok</b>)).toBe('<b>ok</b>');
  });
});
