import { resolve } from "node:path";
import { ConfigError, loadConfig, type Config } from "./config.ts";
import { GitHubStore } from "./github-store.ts";
import { LocalStore } from "./local-store.ts";
import { log } from "./log.ts";
import type { EventStore } from "./store.ts";

/** What a function instance works with: a store, or the reason there is none. */
export type Runtime = { ok: true; store: EventStore } | { ok: false; error: ConfigError };

export function createStore(config: Config): EventStore {
  const { storage, pathPrefix, maxFileBytes } = config;
  return storage.kind === "github"
    ? new GitHubStore(storage.github, pathPrefix, maxFileBytes)
    : new LocalStore(resolve(storage.dir), pathPrefix, maxFileBytes);
}

/** Reads the configuration once per instance; a configuration error is kept and answered as 503 on every request. */
export function loadRuntime(deployContext?: string): Runtime {
  try {
    const store = createStore(loadConfig(undefined, deployContext));
    log("info", "storage_ready", { ...store.describe() });
    return { ok: true, store };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log("error", "storage_not_configured", { message: error.message });
    return { ok: false, error };
  }
}
