import type { StorybookConfig } from '@storybook/react-vite';

const config: StorybookConfig = {
  stories: ['../stories/**/*.mdx', '../stories/**/*.stories.@(ts|tsx)'],
  addons: ['@storybook/addon-docs'],
  framework: { name: '@storybook/react-vite', options: {} },
  typescript: { reactDocgen: 'react-docgen' },
  core: { disableTelemetry: true, disableWhatsNewNotifications: true },
  viteFinal: async (cfg) => {
    // The demos bundle the browser-safe server core (jose via WebCrypto); never `ws` or `node:*`.
    cfg.resolve ??= {};
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
