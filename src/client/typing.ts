/**
 * The typing frame's names for the layers above the client (the React layer imports the client, never `protocol/`).
 * `Channel` sorts typing frames out of its messages and emits `typing`; `Channel#sendTyping` sends one.
 */
export { TYPING_KEY, TYPING_MS, MAX_TYPING_MS } from '../protocol/typing.js';
