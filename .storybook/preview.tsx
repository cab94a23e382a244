import type { Preview } from '@storybook/react-vite';
import { withSignalServer } from '../stories/support/demo-server';
import '../src/components/styles.css';
import '../stories/support/demo.css';

const defaultMode = import.meta.env.STORYBOOK_SIGNAL_SERVER === 'real' ? 'real' : 'in-page';

const preview: Preview = {
  tags: ['autodocs'],
  globalTypes: {
    signalServer: {
      description: 'Where the demos connect: the signal server core running inside this page, or a real server',
      toolbar: {
        title: 'Signal server',
        icon: 'transfer',
        items: [
          { value: 'in-page', title: 'In-page server (no network)' },
          { value: 'real', title: 'Real server (POST /token, ws)' },
        ],
        dynamicTitle: true,
      },
    },
  },
  initialGlobals: { signalServer: defaultMode },
  decorators: [withSignalServer],
  parameters: {
    layout: 'fullscreen',
    controls: { expanded: true, matchers: { color: /(background|color)$/i } },
    options: { storySort: { order: ['Introduction', 'Demos', 'Components', 'Hooks', 'Client'] } },
  },
};

export default preview;
