/**
 * @module One place that turns errors into HTTP answers: `{error:{code,message}}` with a status.
 * Client-facing text never carries internal detail; unknown errors are logged and answered 500.
 */
import { LifelineError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';

/** An error with an HTTP status, thrown by route handlers for expected outcomes. */
export class HttpError extends LifelineError {
  override readonly name = 'HttpError';
  readonly status: number;

  constructor(status: number, code: string, message: string) {
    super(code, message);
    this.status = status;
  }
}

/** The JSON body of every error answer. */
interface ErrorBody {
  error: { code: string; message: string };
}

/** Maps anything thrown in a route (or Elysia's own codes) to a status and an error body. */
export function toErrorAnswer(
  code: string | number,
  error: unknown,
  logger: Logger,
): { status: number; body: ErrorBody } {
  // Elysia wraps whatever a body parser throws (request-gate.ts's 400/413) in its ParseError.
  if (code === 'PARSE' && error instanceof Error && error.cause instanceof HttpError) {
    return toErrorAnswer('http', error.cause, logger);
  }
  if (error instanceof HttpError || hasHttpStatus(error)) {
    return { status: error.status, body: { error: { code: error.code, message: error.message } } };
  }
  if (error instanceof LifelineError && error.code === 'unavailable') {
    return { status: 503, body: { error: { code: 'unavailable', message: error.message } } };
  }
  if (code === 'VALIDATION' || code === 'PARSE') {
    const message = error instanceof Error ? firstLine(error.message) : 'invalid request';
    return { status: 400, body: { error: { code: 'bad_request', message } } };
  }
  if (code === 'NOT_FOUND') {
    return { status: 404, body: { error: { code: 'not_found', message: 'no such route' } } };
  }
  logger.error('unhandled error in HTTP route', { error });
  return { status: 500, body: { error: { code: 'internal', message: 'internal error' } } };
}

/**
 * A LifelineError from a lower layer that names its HTTP status (e.g. realtime's refused upgrade,
 * which cannot import {@link HttpError}).
 */
function hasHttpStatus(error: unknown): error is LifelineError & { status: number } {
  const status = (error as { status?: unknown } | null)?.status;
  return (
    error instanceof LifelineError &&
    typeof status === 'number' &&
    Number.isInteger(status) &&
    status >= 400 &&
    status <= 599
  );
}

function firstLine(text: string): string {
  try {
    const parsed = JSON.parse(text) as { summary?: string; property?: string; message?: string };
    return parsed.summary ?? parsed.message ?? 'invalid request';
  } catch {
    return text.split('\n')[0] ?? 'invalid request';
  }
}
