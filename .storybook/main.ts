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
    return cfg;
  },
};

export default config;
