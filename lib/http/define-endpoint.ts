import type { ConfigError } from "../config.ts";
import type { DashboardJobs } from "../lifecycle/dashboard-jobs.ts";
import { runtimeLoader, type DeployInfo, type Runtime } from "../runtime.ts";
import { checkSecret } from "./check-secret.ts";
import { corsHeaders, isOriginAllowed, preflightResponse } from "./cors-headers.ts";
import { HttpError } from "./http-error.ts";

/** A runtime with a usable configuration. */
export type ReadyRuntime = Extract<Runtime, { ok: true }>;

/** What an endpoint is called with: the instance's runtime, and what its adapter adds. */
export interface EndpointContext {
  runtime: Runtime;
}

export type Endpoint<C> = (request: Request, context: C) => Promise<Response>;

/**
 * Who may call an endpoint, checked once the runtime is ready. `client`: a page of an allowed
 * origin only (a browser would keep the answer from a page, not stop the request), with the shared
 * secret when one is set; `job`: the jobs' key (never the clients' secret), or anyone under `netlify dev`
 * with the local store, which has no key and nothing to guard; `flush`: the jobs' key only (without one, the flush runs
 * in the ingesting process and the function takes no caller); `anyone`.
 */
export type Caller = "client" | "job" | "flush" | "anyone";

interface Answered {
  /** The one path answered, and what a request to another is told (404). None: any path. */
  path?: { matches(pathname: string): boolean; elsewhere: string };
  /** The methods taken (by path); another is 405 with Allow. None: any (a scheduled function's). */
  methods?: readonly string[] | ((pathname: string) => readonly string[]);
}

export interface EndpointSpec<C extends EndpointContext> extends Answered {
  /** A browser-facing endpoint: CORS headers on every answer, and OPTIONS answered as the preflight of these methods. */
  preflight?: readonly string[];
  caller: Caller;
  /** Answers a runtime without a usable configuration itself (health); else 503 with the configuration's code. */
  unready?(error: ConfigError): Response;
  /** Throws an HttpError when a ready runtime cannot serve the endpoint (erasure without the spool); before the caller is checked. */
  needs?(runtime: ReadyRuntime): void;
  handle(request: Request, runtime: ReadyRuntime, context: C, cors: Record<string, string>): Promise<Response>;
}

/**
 * The one way to declare an endpoint: its path, methods, CORS, caller and the ready-runtime check,
 * in that order; then `handle`. Whatever is thrown as an HttpError (or bad input, or the
 * configuration's error) is answered by HttpError, with the CORS headers.
 */
export function defineEndpoint<C extends EndpointContext>(spec: EndpointSpec<C>): Endpoint<C> {
  return async (request, context) => {
    const { runtime } = context;
    const origins = runtime.ok ? runtime.ingest.allowedOrigins : [];
    const cors = spec.preflight && runtime.ok ? corsHeaders(request, origins) : {};
    return answer(request, spec, cors, async () => {
      if (spec.preflight && request.method === "OPTIONS") return preflightResponse(request, origins, spec.preflight);
      allowMethod(request, spec, spec.preflight ? ["OPTIONS"] : []);
      if (!runtime.ok) {
        if (spec.unready) return spec.unready(runtime.error);
        throw runtime.error;
      }
      spec.needs?.(runtime);
      refuseCaller(request, runtime, spec.caller);
      return spec.handle(request, runtime, context, cors);
    });
  };
}

/** An endpoint that needs no runtime (the schema documents): its path and methods, then `handle`. */
export function defineStaticEndpoint(
  spec: Answered & { handle(request: Request): Response },
): (request: Request) => Promise<Response> {
  return (request) =>
    answer(request, spec, {}, async () => {
      allowMethod(request, spec, []);
      return spec.handle(request);
    });
}

/** What Netlify tells a Request/Response function of its invocation, as far as the endpoints use it. */
export interface Invocation extends DeployInfo {
  /** The client's address, as Netlify saw the connection. */
  ip?: string;
  /** Keeps the function alive for `promise` after the answer. */
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * A Netlify function serving `endpoint`, with the runtime of the deploy it is told (see runtimeLoader; a
 * configuration error is kept and answered); `jobs` for a function that publishes or erases (see DashboardJobs).
 */
export function netlifyFunction(
  endpoint: Endpoint<EndpointContext & { invocation: Invocation }>,
  jobs?: DashboardJobs,
): (request: Request, invocation: Invocation) => Promise<Response> {
  const runtimeOf = runtimeLoader(jobs);
  return (request, invocation) => endpoint(request, { runtime: runtimeOf(invocation), invocation });
}

async function answer(
  request: Request,
  { path }: Answered,
  cors: Record<string, string>,
  respond: () => Promise<Response>,
): Promise<Response> {
  // A request under another path is not one of ours: told where to go, with no CORS header.
  if (path && !path.matches(new URL(request.url).pathname)) {
    return new HttpError(404, "not_found", path.elsewhere).response();
  }
  try {
    return await respond();
  } catch (error) {
    const refusal = HttpError.of(error);
    if (!refusal) throw error;
    return refusal.response(cors);
  }
}

function allowMethod(request: Request, { methods }: Answered, also: readonly string[]): void {
  if (methods === undefined) return;
  const allowed = typeof methods === "function" ? methods(new URL(request.url).pathname) : methods;
  if (allowed.includes(request.method)) return;
  const all = [...allowed, ...also];
  throw new HttpError(405, "method_not_allowed", `Use ${all.join(" or ")}`, { headers: { allow: all.join(", ") } });
}

function refuseCaller(request: Request, runtime: ReadyRuntime, caller: Caller): void {
  if (caller === "anyone") return;
  if (caller === "client") {
    const { allowedOrigins, secret } = runtime.ingest;
    if (!isOriginAllowed(request, allowedOrigins)) {
      throw new HttpError(403, "origin_not_allowed", "Requests from this page's origin are not accepted");
    }
    if (secret !== undefined && !checkSecret(request, secret)) throw unauthorized();
    return;
  }
  const key = runtime.flushKey;
  if (key === undefined ? caller === "flush" || !runtime.netlifyDev : !checkSecret(request, key)) throw unauthorized();
}

function unauthorized(): HttpError {
  return new HttpError(401, "unauthorized", "Send the shared key in X-Telemetry-Key or Authorization: Bearer", {
    headers: { "www-authenticate": "Bearer" },
  });
}
