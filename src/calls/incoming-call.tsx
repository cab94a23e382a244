'use client';
import { useEffect, useRef } from '../react/react.js';
import type { ReactNode } from 'react';
import type { CallPeer } from './call-state.js';

/** What {@link IncomingCall} needs of a call: `useCall()`'s result fits. */
export interface IncomingCallSource {
  status: string;
  peer?: CallPeer;
  media: { audio: boolean; video: boolean };
  accept: () => void;
  decline: () => void;
}

/** Props of {@link IncomingCall}. */
export interface IncomingCallProps {
  /** The call (`useCall()`); the component renders only while it is `incoming`. */
  call: IncomingCallSource;
  /** The caller's display name. @default the caller's identity */
  getName?: (peer: CallPeer) => string;
  /** Move focus to Accept when it starts ringing (and back where it was when it stops). @default true */
  autoFocus?: boolean;
  /** Button labels. @default 'Accept', 'Decline' */
  acceptLabel?: string;
  declineLabel?: string;
  /** Extra class beside `rss-call`. */
  className?: string;
}

/**
 * The ring UI of an incoming call: an `alertdialog` naming the caller, with Accept and Decline. Focus moves to
 * Accept while it rings (so screen readers announce the dialog) and returns where it was afterwards; Escape declines.
 * With `autoFocus={false}` it is a `role="alert"` live region instead, announced without taking focus.
 */
export function IncomingCall({ call, getName, autoFocus = true, acceptLabel = 'Accept', declineLabel = 'Decline', className }: IncomingCallProps): ReactNode {
  const ringing = call.status === 'incoming';
  const accept = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!ringing || !autoFocus) return;
    const before = document.activeElement as HTMLElement | null;
    accept.current?.focus();
    return () => {
      if (before?.isConnected && document.activeElement === document.body) before.focus();
    };
  }, [ringing, autoFocus]);
  const peer = call.peer;
  if (!ringing || !peer) return null;
  const name = getName ? getName(peer) : peer.identity;
  const title = `${call.media.video ? 'Video call' : call.media.audio ? 'Call' : 'Connection'} from ${name}`;
  return (
    <div className={className ? `rss-call ${className}` : 'rss-call'} role={autoFocus ? 'alertdialog' : 'alert'} aria-label={title} onKeyDown={(e) => e.key === 'Escape' && call.decline()}>
      <p className="rss-call__title">{title}</p>
      <p className="rss-call__from">{`${name} is calling${peer.device ? ` from ${peer.device}` : ''}`}</p>
      <div className="rss-call__actions">
        <button type="button" ref={accept} className="rss-call__accept" onClick={() => call.accept()}>
          {acceptLabel}
        </button>
        <button type="button" className="rss-call__decline" onClick={() => call.decline()}>
          {declineLabel}
        </button>
      </div>
    </div>
  );
}
