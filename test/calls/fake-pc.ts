/**
 * A fake RTCPeerConnection for Node tests of the negotiation: the signaling state machine of JSEP (stable,
 * have-local-offer, have-remote-offer, implicit rollback), negotiationneeded when something is added while nothing is
 * negotiated, ICE candidates after each local description, and `connected` once both ends hold both descriptions
 * and a remote candidate. No media: tracks are counted, not carried. Throws where a real one would (wrong state).
 */
export class FakePC {
  static all: FakePC[] = [];
  signalingState: RTCSignalingState = 'stable';
  connectionState: RTCPeerConnectionState = 'new';
  iceConnectionState: RTCIceConnectionState = 'new';
  localDescription: { type: RTCSdpType; sdp: string; toJSON(): RTCSessionDescriptionInit } | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  onnegotiationneeded: (() => void) | null = null;
  onicecandidate: ((e: { candidate: { candidate: string; toJSON(): RTCIceCandidateInit } | null }) => void) | null = null;
  oniceconnectionstatechange: (() => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  ontrack: ((e: unknown) => void) | null = null;
  readonly log: string[] = [];
  /** How many candidates each local description gathers. */
  candidatesPer = 4;
  offers = 0;
  answers = 0;
  remoteCandidates = 0;
  iceGen = 0;
  items = 0;
  closed = false;
  #needed = false;
  #negotiatedItems = 0;
  #n = 0;
  readonly id = FakePC.all.length;

  constructor(readonly config?: RTCConfiguration) {
    FakePC.all.push(this);
  }

  addTrack(): object {
    this.items++;
    this.#need();
    return {};
  }
  addTransceiver(): object {
    return this.addTrack();
  }
  createDataChannel(label: string): { label: string } {
    this.items++;
    this.#need();
    return { label };
  }
  restartIce(): void {
    this.iceGen++;
    this.#need(true);
  }
  readonly #listeners = new Map<string, ((e: unknown) => void)[]>();
  addEventListener(type: string, fn: (e: unknown) => void): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), fn]);
  }
  #stateChanged(): void {
    this.onconnectionstatechange?.();
    for (const fn of this.#listeners.get('connectionstatechange') ?? []) fn({});
  }

  async setLocalDescription(d?: RTCSessionDescriptionInit): Promise<void> {
    await tick();
    this.#alive();
    const type: RTCSdpType = d?.type ?? (this.signalingState === 'have-remote-offer' ? 'answer' : 'offer');
    if (type === 'rollback') return this.#set('stable');
    if (type === 'offer' && this.signalingState !== 'stable') throw new Error(`InvalidStateError: offer in ${this.signalingState}`);
    if (type === 'answer' && this.signalingState !== 'have-remote-offer') throw new Error(`InvalidStateError: answer in ${this.signalingState}`);
    const sdp = `${type} pc${this.id}#${++this.#n} items=${this.items} ice=${this.iceGen}`;
    this.localDescription = { type, sdp, toJSON: () => ({ type, sdp }) };
    type === 'offer' ? this.offers++ : this.answers++;
    this.log.push(`local ${type}`);
    this.#negotiatedItems = this.items;
    this.#needed = false;
    this.#set(type === 'offer' ? 'have-local-offer' : 'stable');
    this.#gather();
  }

  async setRemoteDescription(d: RTCSessionDescriptionInit): Promise<void> {
    await tick();
    this.#alive();
    if (d.type === 'offer') {
      if (this.signalingState === 'have-local-offer') {
        this.log.push('rollback');
        this.signalingState = 'stable';
      } else if (this.signalingState !== 'stable') throw new Error(`InvalidStateError: remote offer in ${this.signalingState}`);
      this.remoteDescription = d;
      this.log.push('remote offer');
      this.#set('have-remote-offer');
    } else if (d.type === 'answer') {
      if (this.signalingState !== 'have-local-offer') throw new Error(`InvalidStateError: remote answer in ${this.signalingState}`);
      this.remoteDescription = d;
      this.log.push('remote answer');
      this.#set('stable');
    }
  }

  async addIceCandidate(c: RTCIceCandidateInit): Promise<void> {
    await tick();
    this.#alive();
    if (!this.remoteDescription) throw new Error('InvalidStateError: candidate before a remote description');
    this.remoteCandidates++;
    this.#maybeConnected();
  }

  close(): void {
    this.closed = true;
    this.signalingState = 'closed';
    this.connectionState = 'closed';
  }

  /** Test hook: the ICE transport failed (or recovered). */
  setIce(state: RTCIceConnectionState): void {
    this.iceConnectionState = state;
    this.oniceconnectionstatechange?.();
    const conn: RTCPeerConnectionState = state === 'failed' ? 'failed' : state === 'connected' ? 'connected' : state === 'disconnected' ? 'disconnected' : this.connectionState;
    if (conn !== this.connectionState) {
      this.connectionState = conn;
      this.#stateChanged();
    }
  }

  #alive(): void {
    if (this.closed) throw new Error('InvalidStateError: closed');
  }

  #set(s: RTCSignalingState): void {
    this.signalingState = s;
    if (s === 'stable') {
      this.#maybeConnected();
      if (this.#needed || this.items > this.#negotiatedItems) this.#fireNeeded();
    }
  }

  #need(force = false): void {
    if (this.#needed && !force) return;
    this.#needed = true;
    if (this.signalingState === 'stable') this.#fireNeeded();
  }

  #fireNeeded(): void {
    setTimeout(() => {
      if (!this.closed && this.signalingState === 'stable' && (this.#needed || this.items > this.#negotiatedItems)) this.onnegotiationneeded?.();
    }, 0);
  }

  #gather(): void {
    const n = this.candidatesPer;
    for (let i = 0; i < n; i++) {
      setTimeout(() => {
        if (this.closed) return;
        const candidate = `candidate:${this.id} ${i} udp 127.0.0.1 ${5000 + i} typ host`;
        this.onicecandidate?.({ candidate: { candidate, toJSON: () => ({ candidate, sdpMid: '0', sdpMLineIndex: 0 }) } });
        if (i === n - 1) setTimeout(() => !this.closed && this.onicecandidate?.({ candidate: null }), 2);
      }, 2 + i * 3);
    }
  }

  #maybeConnected(): void {
    if (this.signalingState !== 'stable' || !this.remoteDescription || !this.localDescription || this.remoteCandidates === 0) return;
    if (this.connectionState === 'connected' || this.closed) return;
    setTimeout(() => {
      if (this.closed || this.connectionState === 'connected') return;
      this.iceConnectionState = 'connected';
      this.oniceconnectionstatechange?.();
      this.connectionState = 'connected';
      this.#stateChanged();
    }, 5);
  }
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 1));

/** A fake as the DOM type the code under test takes. */
export const asPC = (f: FakePC): RTCPeerConnection => f as unknown as RTCPeerConnection;
