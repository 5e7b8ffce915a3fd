// The few tagged errors that domain code throws. Each service's HTTP error handler maps them to
// that service's OpenStack error body; anything else is a bug and becomes a logged 500.

export type ErrorKind =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'Conflict'
  | 'OverQuota'
  | 'TooManyRequests'
  | 'PayloadTooLarge'
  | 'NotAcceptable'
  | 'UnsupportedMediaType'
  | 'NotImplemented'
  | 'Unavailable';

const statusOf: Record<ErrorKind, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  Conflict: 409,
  // Nova answers quota excess with 403; services that use 413 pass it explicitly.
  OverQuota: 403,
  TooManyRequests: 429,
  PayloadTooLarge: 413,
  NotAcceptable: 406,
  UnsupportedMediaType: 415,
  NotImplemented: 501,
  Unavailable: 503,
};

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** Neutron's error type (e.g. NetworkNotFound); defaults to the kind. */
    readonly type: string = kind,
    status?: number,
    /** Seconds after which the client may try again (Retry-After), for 429 and 503. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.status = status ?? statusOf[kind];
  }
}

export const badRequest = (msg: string, type?: string) => new ApiError('BadRequest', msg, type);
export const unauthorized = (msg = 'The request you have made requires authentication.') => new ApiError('Unauthorized', msg);
export const forbidden = (msg = 'You are not authorized to perform the requested action.') => new ApiError('Forbidden', msg);
export const notFound = (msg: string, type?: string) => new ApiError('NotFound', msg, type);
export const conflict = (msg: string, type?: string) => new ApiError('Conflict', msg, type);
export const overQuota = (msg: string, status = 403) => new ApiError('OverQuota', msg, 'OverQuota', status);
export const tooManyRequests = (msg: string, retryAfter: number) => new ApiError('TooManyRequests', msg, 'TooManyRequests', undefined, retryAfter);
export const notImplemented = (msg: string) => new ApiError('NotImplemented', msg);
export const unavailable = (msg: string, retryAfter?: number) => new ApiError('Unavailable', msg, 'Unavailable', undefined, retryAfter);
