/** The contract's error codes: the same numbers over SOAP and JSON. */
export const ErrorCode = {
  ok: 0,
  authenticationFailed: 1,
  missingParameter: 2,
  invalidParameter: 3,
  webhookNotFound: 4,
  targetNotAllowed: 5,
  limitReached: 6,
  internal: 99,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** A failure the caller caused and can fix; its message is safe to show. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCodeValue,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const missing = (name: string) => new ApiError(ErrorCode.missingParameter, `parameter '${name}' is missing or empty`);
export const invalid = (name: string, why: string) => new ApiError(ErrorCode.invalidParameter, `parameter '${name}' ${why}`);
export const authenticationFailed = () => new ApiError(ErrorCode.authenticationFailed, 'authentication failed');
export const webhookNotFound = () => new ApiError(ErrorCode.webhookNotFound, 'no webhook with this id');
export const targetNotAllowed = (why: string) => new ApiError(ErrorCode.targetNotAllowed, `url is not allowed as a target: ${why}`);
export const limitReached = (why: string) => new ApiError(ErrorCode.limitReached, why);
