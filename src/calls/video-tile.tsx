'use client';
import { useEffect, useRef } from '../react/react.js';
import type { ReactNode } from 'react';

/** Props of {@link VideoTile}. */
export interface VideoTileProps {
  /** The stream to show; nothing plays while `null`. */
  stream: MediaStream | null;
  /** Mute its audio (always for your own camera, to avoid an echo). @default false */
  muted?: boolean;
  /** Mirror the picture (a self view). @default false */
  mirror?: boolean;
  /** Accessible name of the video. */
  label?: string;
  /** Extra class beside `rss-video`. */
  className?: string;
}

/** A `<video>` playing a MediaStream (`rss-video`; `data-empty` while there is no stream). */
export function VideoTile({ stream, muted = false, mirror = false, label, className }: VideoTileProps): ReactNode {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const v = ref.current;
    if (!v || v.srcObject === stream) return;
    v.srcObject = stream;
    if (stream) v.play().catch(() => {}); // autoplay refused (no user gesture yet): the controls-free tile waits
  }, [stream]);
  return (
    <video
      ref={ref}
      className={className ? `rss-video ${className}` : 'rss-video'}
      autoPlay
      playsInline
      muted={muted}
      aria-label={label}
      data-empty={stream ? undefined : ''}
      data-mirror={mirror ? '' : undefined}
    />
  );
}
