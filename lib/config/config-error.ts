/** What a configuration error is answered with: storage settings missing, or a setting that is wrong. */
export type ConfigProblem = "storage_not_configured" | "service_misconfigured";

/** Thrown when the environment cannot give a usable configuration; the message names what to set, never a value. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    message: string,
    readonly code: ConfigProblem = "service_misconfigured",
  ) {
    super(message);
  }
}
