/**
 * Where a call's local media comes from: constraints for `getUserMedia`, a stream the app made (never stopped by
 * the call), a function that makes one (its tracks are stopped when the call ends), or `false` (no media: a data
 * channel only, or receive only).
 */
export type CallMedia = MediaStreamConstraints | MediaStream | (() => Promise<MediaStream>) | false;

/** The default: camera and microphone. */
export const DEFAULT_MEDIA: MediaStreamConstraints = { audio: true, video: true };

/** The kinds a media source will send, as told in an invite. */
export function kindsOf(media: CallMedia): { audio: boolean; video: boolean } {
  if (media === false) return { audio: false, video: false };
  if (typeof media === 'function') return { audio: true, video: true };
  if (typeof MediaStream !== 'undefined' && media instanceof MediaStream) {
    return { audio: media.getAudioTracks().length > 0, video: media.getVideoTracks().length > 0 };
  }
  const c = media as MediaStreamConstraints;
  return { audio: !!c.audio, video: !!c.video };
}

/** Get the stream; `owned`: the call stops its tracks when it ends. */
export async function openMedia(media: CallMedia): Promise<{ stream: MediaStream | null; owned: boolean }> {
  if (media === false) return { stream: null, owned: false };
  if (typeof media === 'function') return { stream: await media(), owned: true };
  if (typeof MediaStream !== 'undefined' && media instanceof MediaStream) return { stream: media, owned: false };
  const c = media as MediaStreamConstraints;
  if (!c.audio && !c.video) return { stream: null, owned: false };
  return { stream: await navigator.mediaDevices.getUserMedia(c), owned: true };
}

/** Stop every track of a stream the call owns. */
export function stopMedia(m: { stream: MediaStream | null; owned: boolean } | null): void {
  if (m?.owned) for (const t of m.stream?.getTracks() ?? []) t.stop();
}
