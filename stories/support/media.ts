/**
 * Local video for the call demos: the camera when the browser grants it (within 3 s), else a generated canvas stream
 * (a moving dot and the user's name), so the static Storybook build works anywhere, with or without a camera.
 */
export async function cameraOrCanvas(label: string, color: string): Promise<MediaStream> {
  try {
    if (!navigator.mediaDevices?.getUserMedia) throw new Error('no getUserMedia');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no answer')), 3000)));
    let timedOut = false;
    const cam = navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: false });
    cam.then((s) => timedOut && s.getTracks().forEach((t) => t.stop())).catch(() => {});
    try {
      return await Promise.race([cam, timeout]);
    } catch (e) {
      timedOut = true;
      throw e;
    } finally {
      clearTimeout(timer);
    }
  } catch {
    return canvasStream(label, color);
  }
}

/** A 320×240 canvas stream at 15 fps; drawing stops when its track ends. */
export function canvasStream(label: string, color: string): MediaStream {
  const canvas = document.createElement('canvas');
  canvas.width = 320;
  canvas.height = 240;
  const g = canvas.getContext('2d')!;
  const stream = canvas.captureStream(15);
  const [track] = stream.getVideoTracks();
  let t = 0;
  const draw = (): void => {
    t += 1;
    g.fillStyle = color;
    g.fillRect(0, 0, 320, 240);
    g.fillStyle = 'rgba(255,255,255,0.9)';
    g.beginPath();
    g.arc(160 + Math.cos(t / 10) * 100, 120 + Math.sin(t / 7) * 60, 18, 0, Math.PI * 2);
    g.fill();
    g.font = '600 28px system-ui, sans-serif';
    g.textAlign = 'center';
    g.fillText(label, 160, 40);
  };
  draw();
  const timer = setInterval(() => {
    if (track?.readyState === 'ended') clearInterval(timer);
    else draw();
  }, 1000 / 15);
  return stream;
}
