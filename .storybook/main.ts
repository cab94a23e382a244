import { fileURLToPath } from 'node:url';
import type { StorybookConfig } from '@storybook/react-vite';

const src = (path: string): string => fileURLToPath(new URL(`../src/${path}`, import.meta.url));

const config: StorybookConfig = {
  stories: ['../stories/**/*.mdx', '../stories/**/*.stories.@(ts|tsx)'],
  addons: ['@storybook/addon-docs'],
  framework: { name: '@storybook/react-vite', options: { strictMode: true } },
  typescript: { reactDocgen: 'react-docgen' },
  core: { disableTelemetry: true, disableWhatsNewNotifications: true },
  viteFinal: async (cfg) => {
    // The demos bundle the browser-safe server core (jose via WebCrypto); never `ws` or `node:*`.
    // Stories import the package by its public names, so their code can be copied as is.
    cfg.resolve ??= {};
    const alias = [
      { find: /^react-signal-service$/, replacement: src('index.ts') },
      { find: /^react-signal-service\/client$/, replacement: src('client/index.ts') },
      { find: /^react-signal-service\/calls$/, replacement: src('calls/index.ts') },
      { find: /^react-signal-service\/server\/browser$/, replacement: src('server/browser.ts') },
    ];
    const prevAlias = cfg.resolve.alias;
    cfg.resolve.alias = Array.isArray(prevAlias)
      ? [...alias, ...prevAlias]
      : [...alias, ...Object.entries(prevAlias ?? {}).map(([find, replacement]) => ({ find, replacement: String(replacement) }))];
    cfg.build ??= {};
    cfg.build.chunkSizeWarningLimit = 2000;
    // The package's React files start with 'use client' (for RSC frameworks); bundlers drop it, harmlessly.
    cfg.build.rollupOptions ??= {};
    const prev = cfg.build.rollupOptions.onwarn;
    cfg.build.rollupOptions.onwarn = (warning, warn) => {
      if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
      if (prev) prev(warning, warn);
      else warn(warning);
    };
    return cfg;
  },
};

export default config;
