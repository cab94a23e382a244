'use client';
import { useEffect, useState } from '../react/react.js';
import { useSignal } from '../react/use-connection-state.js';
import { createPeerLink, type PeerLink, type PeerLinkOptions } from './peer-link.js';

/** What {@link usePeerConnection} returns. */
export interface UsePeerConnection {
  /** The connection (add tracks and data channels to it: renegotiation follows by itself); `null` until created. */
  pc: RTCPeerConnection | null;
  /** `pc.connectionState`, re-rendered on change. */
  connectionState: RTCPeerConnectionState | 'new';
  /** The peer's tracks (one stream, tracks added as they arrive), or `null`. */
  remoteStream: MediaStream | null;
  /** Restart ICE by hand (it restarts by itself when the connection fails). */
  restartIce: () => void;
}

/**
 * A WebRTC connection to `peerAddress` (`identity/device`, or an exact endpoint `identity/device/route`) negotiated
 * over direct messages with the "perfect negotiation" pattern: either end may add or remove tracks at any time,
 * glare is resolved, ICE candidates go out in batches, ICE restarts when the connection fails, and a signaling
 * reconnect on either end (a new route) is followed. `null` for `peerAddress`: no connection.
 */
export function usePeerConnection(peerAddress: string | null, options: PeerLinkOptions = {}): UsePeerConnection {
  const signal = useSignal();
  const [link, setLink] = useState<PeerLink | null>(null);
  const [remoteStream, setRemote] = useState<MediaStream | null>(null);
  const [, setState] = useState<RTCPeerConnectionState>();
  useEffect(() => {
    if (!signal || !peerAddress) return;
    const l = createPeerLink(signal, peerAddress, options); // a new id makes a new link; other options apply to the next one
    l.pc.addEventListener('connectionstatechange', () => setState(l.pc.connectionState)); // re-render
    // One stream for the peer's tracks (the same object: a VideoTile playing it gets the new track by itself).
    l.pc.addEventListener('track', (e) => setRemote((s) => ((s ??= new MediaStream()).addTrack(e.track), s)));
    setLink(l);
    setRemote(null);
    return () => {
      l.close();
      setLink(null);
    };
  }, [signal, peerAddress, options.id]);
  return { pc: link?.pc ?? null, connectionState: link?.pc.connectionState ?? 'new', remoteStream, restartIce: () => link?.negotiator.restartIce() };
}
