/**
 * What the explorer refuses or cannot answer, with the HTTP status it is answered with: a bad parameter
 * is a 400, a question the data cannot answer (a filter over GitHub's files) a 501; the transport maps it
 * to a JSON error in one place.
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
