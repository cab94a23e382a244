import { CLIENT_ERROR, ERROR_CODE, type SignalErrorCode } from '../protocol/constants.js';

/** What a {@link SignalError} may carry besides its code and message. */
export interface SignalErrorDetails {
  rpcCode?: number;
  method?: string;
  channel?: string;
  payload?: unknown;
}

/** Every error the client reports: a stable `code` (`SIGNAL_ERR_*`) plus the JSON-RPC number when it came from the server. */
export class SignalError extends Error {
  /** Stable string code, listed in PROTOCOL.md. */
  declare readonly code: SignalErrorCode;
  /** The JSON-RPC error number, when the server sent one. */
  declare readonly rpcCode?: number;
  /** The method that was refused. */
  declare readonly method?: string;
  /** The channel it was about. */
  declare readonly channel?: string;
  /** What could not be sent (queue overflow, close). */
  declare readonly payload?: unknown;

  constructor(
    code: SignalErrorCode,
    message: string,
    extra: SignalErrorDetails = {},
  ) {
    super(message);
    this.name = 'SignalError';
    this.code = code;
    // Each detail is an own field, undefined when not given.
    this.rpcCode = extra.rpcCode;
    this.method = extra.method;
    this.channel = extra.channel;
    this.payload = extra.payload;
  }

  /** Build from a server error number. */
  static fromRpc(rpcCode: number, message: string, extra: { method?: string; channel?: string } = {}): SignalError {
    const code = (ERROR_CODE as Record<number, SignalErrorCode>)[rpcCode] ?? CLIENT_ERROR.PROTOCOL;
    return new SignalError(code, message, { ...extra, rpcCode });
  }
}
