/**
 * Where a call's local media comes from: constraints for `getUserMedia`, a stream the app made (never stopped by
 * the call), a function that makes one (its tracks are stopped when the call ends), or `false` (no media: a data
 * channel only, or receive only).
 */
export type CallMedia = MediaStreamConstraints | MediaStream | (() => Promise<MediaStream>) | false;

/** The default: camera and microphone. */
export const DEFAULT_MEDIA: MediaStreamConstraints = { audio: true, video: true };

const isStream = (m: CallMedia): m is MediaStream => typeof MediaStream !== 'undefined' && m instanceof MediaStream;

/** The kinds a media source will send, as told in an invite. */
export function kindsOf(media: CallMedia): { audio: boolean; video: boolean } {
  const c = typeof media === 'function' ? DEFAULT_MEDIA : isStream(media) ? { audio: media.getAudioTracks()[0], video: media.getVideoTracks()[0] } : media || {};
  return { audio: !!c.audio, video: !!c.video };
}

/** Get the stream (`null`: no media). The call owns it (stops its tracks when it ends) unless it is `media` itself. */
export async function openMedia(media: CallMedia): Promise<MediaStream | null> {
  return isStream(media) ? media : typeof media === 'function' ? media() : media && (media.audio || media.video) ? navigator.mediaDevices.getUserMedia(media) : null;
}
