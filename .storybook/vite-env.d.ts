/// <reference types="vite/client" />
interface ImportMetaEnv {
  readonly STORYBOOK_SIGNAL_SERVER?: string;
  readonly STORYBOOK_SIGNAL_URL?: string;
}
