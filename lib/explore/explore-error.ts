/**
 * What the explorer refuses, with the HTTP status it is answered with (a bad parameter: 400; nothing
 * at a path: 404): the transport maps it to a JSON error in one place.
 */
export class ExploreError extends Error {
  override name = "ExploreError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
