import { beforeAll } from 'vitest';

/**
 * Socket events update the stores outside act(), as in a browser; tests wait for the DOM with waitFor.
 * Call in a file's top level after importing @testing-library/react (whose beforeAll turns the act
 * environment on) to silence the "not wrapped in act" warnings for those updates.
 */
export function socketUpdatesOutsideAct(): void {
  beforeAll(() => {
    (globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false;
  });
}
