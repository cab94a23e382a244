'use client';
export { TypingIndicator, type TypingIndicatorProps } from './typing-indicator.js';
export { PresenceList, type PresenceListProps, type PresenceItem } from './presence-list.js';
export { formatTyping, participantName } from './names.js';
