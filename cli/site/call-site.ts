import type { Config } from "../../lib/config.ts";

/** Where `npm start` serves the site: the one called when neither `--url` nor DEPLOY_URL or URL names another. */
export const DEFAULT_SITE = "http://localhost:8888";

/** The site a command calls: `--url`, else the deploy's (DEPLOY_URL or URL), else the local one. */
export function siteOf(url: string | undefined, config: Config): string {
  return url ?? config.siteUrl ?? DEFAULT_SITE;
}

export type SiteAnswer = Record<string, unknown> & { message?: string };

/**
 * One request to the site, answered in JSON: the answer, or an error in one line that names the
 * site and why (it cannot be reached; or its status and message, when it refused or, by `accepts`,
 * did not answer what was asked).
 */
export async function callSite(
  site: string,
  path: string,
  {
    timeoutMs,
    accepts = () => true,
    ...init
  }: RequestInit & { timeoutMs: number; accepts?: (answer: SiteAnswer) => boolean },
): Promise<SiteAnswer> {
  const url = new URL(path, site);
  let answer: Response;
  try {
    answer = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new Error(`cannot reach ${url.origin} (is the site running? npm start serves it locally)`, { cause: error });
  }
  const body = (await answer.json().catch(() => ({}))) as SiteAnswer;
  if (!answer.ok || !accepts(body)) {
    throw new Error(`${url.origin} answered ${answer.status}${body.message ? `: ${body.message}` : ""}`);
  }
  return body;
}
