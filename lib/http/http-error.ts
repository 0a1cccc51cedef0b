import { ConfigError } from "../config.ts";
import { InputError } from "../events/input-error.ts";
import { jsonResponse } from "./json-response.ts";

/** How long to tell a caller to wait while the service is misconfigured: an operator has to act. */
const MISCONFIGURED_RETRY_AFTER_SECONDS = 60;

export interface HttpErrorOptions extends ErrorOptions {
  /** Fields of the answer beside `error` and `message` (a limit, the issues). */
  details?: Readonly<Record<string, unknown>>;
  /** Headers of the answer (Allow, Retry-After, WWW-Authenticate). */
  headers?: Readonly<Record<string, string>>;
}

/**
 * A refusal that carries its own answer: the status, a code, a message, details and headers
 * (hono's HTTPException is the model). Thrown anywhere under an endpoint, it is answered by
 * `response`, the one place an error becomes a response.
 */
export class HttpError extends Error {
  override name = "HttpError";
  readonly details: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    { details = {}, headers = {}, ...options }: HttpErrorOptions = {},
  ) {
    super(message, options);
    this.details = details;
    this.headers = headers;
  }

  /** The answer: `{"status":"error","error":<code>,"message":<why>, ...details}`, with `extra` headers (CORS). */
  response(extra: Readonly<Record<string, string>> = {}): Response {
    return jsonResponse(
      this.status,
      { status: "error", error: this.code, message: this.message, ...this.details },
      { ...extra, ...this.headers },
    );
  }

  /**
   * The answer an error thrown under an endpoint gets: an HttpError as it is, bad input as its
   * InputError says, a configuration that cannot serve as 503 with its code (the message names the
   * setting, never its value); undefined for any other error, which is not the caller's to hear of.
   */
  static of(error: unknown): HttpError | undefined {
    if (error instanceof HttpError) return error;
    if (error instanceof InputError) {
      return new HttpError(error.status, error.code, error.message, { details: error.details, cause: error });
    }
    if (error instanceof ConfigError) {
      return new HttpError(503, error.code, error.message, {
        headers: { "retry-after": String(MISCONFIGURED_RETRY_AFTER_SECONDS) },
        cause: error,
      });
    }
    return undefined;
  }
}
