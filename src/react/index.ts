'use client';
export { SignalProvider, type SignalProviderProps } from './provider.js';
export {
  useSignal,
  useConnectionState,
  useConnectionError,
  useDirectMessages,
  useChannel,
  useParticipants,
  useParticipant,
  useParticipantState,
  useMyState,
  useTyping,
  useIdentity,
  type DirectMessagesOptions,
  type DirectMessages,
  type UseChannelOptions,
  type UseChannelResult,
  type UseMyStateOptions,
  type SetMyState,
  type UseTypingOptions,
  type UseTyping,
} from './hooks.js';
export { DEFAULT_SIGNAL_LIMITS, type SignalLimits } from './hub.js';
export { TYPING_KEY, type ParticipantView } from './channel-entry.js';
