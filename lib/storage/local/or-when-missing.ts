/** Errors that mean a path (or a folder on the way to it) is not there. */
export const MISSING = new Set(["ENOENT", "ENOTDIR"]);

/** A missing file or folder reads as `fallback`; any other failure stands. */
export function orWhenMissing<T>(fallback: T): (error: unknown) => T {
  return (error) => {
    if (MISSING.has((error as NodeJS.ErrnoException).code ?? "")) return fallback;
    throw error;
  };
}
