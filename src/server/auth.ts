import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors as joseErrors,
  importSPKI,
  jwtVerify,
  SignJWT,
  UnsecuredJWT,
  type CryptoKey,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { parseSubject } from '../protocol/address.js';
import { SERVER_FROM } from '../protocol/constants.js';
import { randomId } from './ids.js';

export { randomId } from './ids.js';
import { isWellFormed } from '../protocol/well-formed.js';

/** How the server verifies tokens. Exactly one of `secret`, `publicKey`, `jwks`. */
export interface AuthOptions {
  /** HS256 shared secret. */
  secret?: string | Uint8Array;
  /** RS256/ES256 public key: a WebCrypto key or an SPKI PEM string. */
  publicKey?: CryptoKey | string;
  /** Algorithm of a PEM `publicKey`. @default 'RS256' */
  publicKeyAlg?: 'RS256' | 'ES256' | 'PS256' | 'EdDSA';
  /** A JWKS: a URL to fetch it from, or the key set itself. */
  jwks?: string | URL | JSONWebKeySet;
  /** Expected `aud`, when set. */
  audience?: string | string[];
  /** Expected `iss`, when set. */
  issuer?: string | string[];
  /**
   * Refuse a token without `exp` (`invalid token: missing exp`): such a token would be valid for ever.
   * Set `false` only for an issuer that cannot set `exp`.
   * @default true
   */
  requireExp?: boolean;
  /**
   * Clock skew allowed, in seconds, between the token issuer and this server for `nbf` and `iat`: a token whose
   * `nbf` is further ahead is refused (`invalid token: nbf in the future`), one whose `iat` is further ahead too
   * (`invalid token: iat in the future`). `exp` gets no such leeway: a token is refused from its `exp` on.
   * @default 30
   */
  clockToleranceSec?: number;
}

/** A verified token. */
export interface VerifiedToken {
  identity: string;
  device: string;
  claims: JWTPayload;
}

/** Why a token was refused. */
export class TokenError extends Error {
  /**
   * The token could not be checked for a reason on the server's side (the JWKS cannot be fetched,
   * a bad key): the client should retry later rather than give up.
   */
  readonly unavailable: boolean;
  constructor(message: string, unavailable = false) {
    super(message);
    this.name = 'TokenError';
    this.unavailable = unavailable;
  }
}

/** jose codes that mean the key set could not be had, not that the token is bad. */
const UNAVAILABLE_CODES = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JOSE_GENERIC', 'ERR_JWKS_INVALID']);

type Verifier = (jwt: string) => Promise<JWTPayload>;

/** Default {@link AuthOptions.clockToleranceSec}. */
const DEFAULT_CLOCK_TOLERANCE_SEC = 30;

/**
 * A synchronous HS256 signature check the host may supply (the Node server does, with `node:crypto`): `true` when
 * `signature` (base64url, as in the token) is the HMAC-SHA256 of `signingInput` under `key`, compared in constant
 * time. Without it the HS256 check goes through jose and WebCrypto, whose job hop cost ~20 % of the server's CPU per
 * connection in the connection-rate bench.
 */
export type HmacCheck = (key: Uint8Array, signingInput: string, signature: string) => boolean;

/** `base64url('{"alg":"none"}')`: the header of the unsecured token whose claims jose checks after our HS256 check. */
const NONE_HEADER = 'eyJhbGciOiJub25lIn0';

/**
 * HS256 with a synchronous signature check, the rest as jose does it: the header must say `HS256` (a header with
 * `crit` or `b64` goes to `fallback`, jose's own path, which refuses or accepts it as it always did); then the claims
 * go through jose's own claim checks (`UnsecuredJWT.decode`: the same rules and errors as `jwtVerify`), so the two
 * paths refuse the same tokens with the same messages (test/server/auth-hs256-paths.test.ts).
 */
function hs256Sync(key: Uint8Array, check: HmacCheck, claimsOpts: { audience?: string | string[]; issuer?: string | string[]; clockTolerance: number }, fallback: Verifier): Verifier {
  return async (jwt) => {
    const parts = jwt.split('.');
    if (parts.length !== 3) throw new joseErrors.JWSInvalid('Invalid Compact JWS');
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(jwt);
    } catch {
      throw new joseErrors.JWSInvalid('JWS Protected Header is invalid'); // a bad token, not an unavailable key
    }
    if (header.alg !== 'HS256') throw new joseErrors.JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed');
    if (header.crit !== undefined || header.b64 !== undefined) return fallback(jwt); // rare: jose says why it refuses
    if (!check(key, `${parts[0]}.${parts[1]}`, parts[2]!)) throw new joseErrors.JWSSignatureVerificationFailed();
    return UnsecuredJWT.decode(`${NONE_HEADER}.${parts[1]}.`, claimsOpts).payload;
  };
}

/**
 * Build a verifier from the options; throws `TypeError` on a bad combination. `hmac`: a synchronous HS256 check
 * (see {@link HmacCheck}); the Node server passes one.
 */
export function createVerifier(opts: AuthOptions, hmac?: HmacCheck): (jwt: string) => Promise<VerifiedToken> {
  const given = [opts.secret, opts.publicKey, opts.jwks].filter((v) => v !== undefined).length;
  if (given !== 1) throw new TypeError('give exactly one of `secret`, `publicKey` or `jwks`');
  const tolerance = opts.clockToleranceSec ?? DEFAULT_CLOCK_TOLERANCE_SEC;
  if (typeof tolerance !== 'number' || !Number.isFinite(tolerance) || tolerance < 0) {
    throw new TypeError('`clockToleranceSec` must be a finite number of seconds, at least 0');
  }
  const requireExp = opts.requireExp ?? true;
  const claimsOpts = {
    ...(opts.audience === undefined ? {} : { audience: opts.audience }),
    ...(opts.issuer === undefined ? {} : { issuer: opts.issuer }),
    // jose applies it to `nbf` and `exp`; `exp` is checked again below without it.
    clockTolerance: tolerance,
  };
  let verify: Verifier;
  if (opts.secret !== undefined) {
    const key = secretBytes(opts.secret);
    if (key.length === 0) throw new TypeError('`secret` must not be empty');
    // Imported once as a WebCrypto key: given the raw bytes, jose imports them again for every token (~7% of a
    // connection's server CPU in the connection-rate bench).
    let imported: Promise<CryptoKey | Uint8Array> | undefined;
    const hmacKey = (): Promise<CryptoKey | Uint8Array> =>
      (imported ??= (globalThis.crypto?.subtle?.importKey('raw', key as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']) ?? Promise.reject(new Error('no WebCrypto'))).catch(() => key));
    const viaJose: Verifier = async (jwt) => (await jwtVerify(jwt, await hmacKey(), { ...claimsOpts, algorithms: ['HS256'] })).payload;
    verify = hmac ? hs256Sync(key, hmac, claimsOpts, viaJose) : viaJose;
  } else if (opts.publicKey !== undefined) {
    const alg = opts.publicKeyAlg ?? 'RS256';
    const pk = opts.publicKey;
    const keyP: Promise<CryptoKey> = typeof pk === 'string' ? importSPKI(pk, alg) : Promise.resolve(pk);
    keyP.catch(() => {}); // a bad PEM refuses each token (keys unavailable), never an unhandled rejection
    verify = async (jwt) => (await jwtVerify(jwt, await keyP, { ...claimsOpts, algorithms: [alg] })).payload;
  } else {
    const j = opts.jwks!;
    const getKey: JWTVerifyGetKey =
      typeof j === 'string' || j instanceof URL ? createRemoteJWKSet(new URL(j)) : createLocalJWKSet(j);
    verify = async (jwt) => (await jwtVerify(jwt, getKey, claimsOpts)).payload;
  }
  return async (jwt) => {
    if (typeof jwt !== 'string' || jwt.length === 0) throw new TokenError('missing token');
    let claims: JWTPayload;
    try {
      claims = await verify(jwt);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ERR_JWT_EXPIRED') throw new TokenError('token expired');
      if (typeof code !== 'string' || UNAVAILABLE_CODES.has(code)) {
        throw new TokenError(`token keys unavailable: ${(e as Error).message}`, true);
      }
      if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && (e as { claim?: string }).claim === 'nbf' && (e as { reason?: string }).reason === 'check_failed') {
        throw new TokenError('invalid token: nbf in the future');
      }
      throw new TokenError(`invalid token: ${(e as Error).message}`);
    }
    // jose has checked that `exp`, `iat` and `nbf`, when present, are numbers.
    const now = Math.floor(Date.now() / 1000);
    if (claims.exp === undefined) {
      if (requireExp) throw new TokenError('invalid token: missing exp');
    } else if (claims.exp <= now) {
      throw new TokenError('token expired');
    }
    if (claims.iat !== undefined && claims.iat > now + tolerance) throw new TokenError('invalid token: iat in the future');
    const sub = parseSubject(claims.sub);
    if (!sub) throw new TokenError('token sub must be identity/device');
    if (sub.identity === SERVER_FROM) throw new TokenError(`invalid token: identity ${SERVER_FROM} is reserved`);
    return { ...sub, claims };
  };
}

/** Options for {@link signAccessToken}. */
export interface SignOptions {
  /** HS256 secret. */
  secret: string | Uint8Array;
  identity: string;
  /** @default a random device id */
  device?: string;
  /** The server's public base URL (`http(s)://host:port`), put in `aud`. */
  audience: string;
  /** Lifetime in seconds. @default 3600 */
  expiresIn?: number;
  /** Extra claims. */
  claims?: Record<string, unknown>;
}

/** Mint an HS256 access token with `sub` = `identity/device` and `aud` = the server URL. */
export async function signAccessToken(opts: SignOptions): Promise<string> {
  if (typeof opts.identity !== 'string' || opts.identity.length === 0 || opts.identity.includes('/') || !isWellFormed(opts.identity)) {
    throw new TypeError('identity must be a non-empty, well-formed string without "/"');
  }
  if (opts.identity === SERVER_FROM) throw new TypeError(`identity ${SERVER_FROM} is reserved (the from of the server's own messages)`);
  const device = opts.device ?? randomId(8);
  if (typeof device !== 'string' || device.length === 0 || device.includes('/') || !isWellFormed(device)) {
    throw new TypeError('device must be a non-empty, well-formed string without "/"');
  }
  const key = secretBytes(opts.secret);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...opts.claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(`${opts.identity}/${device}`)
    .setAudience(opts.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + (opts.expiresIn ?? 3600))
    .sign(key);
}

/**
 * The secret as bytes of this realm's Uint8Array (a TextEncoder from another realm, as in jsdom tests,
 * yields arrays jose refuses).
 */
function secretBytes(secret: string | Uint8Array): Uint8Array {
  return new Uint8Array(typeof secret === 'string' ? new TextEncoder().encode(secret) : secret);
}
