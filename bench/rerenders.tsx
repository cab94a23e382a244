// Re-render counts of the React layer, measured for real: jsdom + a real signal server on port 0 + real
// clients. Prints one JSON line. Run: npx tsx bench/rerenders.tsx
// The measurements are the same functions test/react/rerenders.test.tsx asserts on.
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!doctype html><html><body></body></html>', { url: 'http://localhost/', pretendToBeVisual: true });
const g = globalThis as Record<string, unknown>;
for (const key of Object.getOwnPropertyNames(dom.window)) {
  if (key in g || key.startsWith('_')) continue;
  g[key] = (dom.window as unknown as Record<string, unknown>)[key];
}
g.window = dom.window;
g.document = dom.window.document;
// Socket events update the stores outside act(); React then schedules renders as in a browser (no act warnings).
g.IS_REACT_ACT_ENVIRONMENT = false;

const { startTestServer } = await import('../src/testing/index.js');
const { measureStateUpdate, measureTypingBurst, measureCrossTalk } = await import('../test/react/scenarios.js');

const srv = await startTestServer();
try {
  const state = await measureStateUpdate(srv, 100);
  const typing = await measureTypingBurst(srv, 50);
  const cross = await measureCrossTalk(srv);
  console.log(
    JSON.stringify({
      stateUpdateRowRenders: state.rowRenders,
      stateUpdateListRenders: state.listRenders,
      typingBurstIndicatorRenders: typing.indicatorRenders,
      dmChannelRenders: cross.dmChannelRenders,
      channelMsgPresenceRenders: cross.channelMsgPresenceRenders,
    }),
  );
} finally {
  await srv.close();
  dom.window.close();
}
process.exit(0);
