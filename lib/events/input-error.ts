/** What a request that cannot be taken as sent is answered with. */
export type InputStatus = 400 | 413 | 415;

/**
 * The request cannot be taken as sent: its body, its batch or a header. The one error that carries
 * its own answer (status, error code, message and details), so that every refusal of bad input is
 * turned into a response in one place.
 */
export class InputError extends Error {
  override name = "InputError";
  constructor(
    readonly status: InputStatus,
    readonly code: string,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
