import { siteOf } from "../config.ts";

/** What a Request/Response function is told of its deploy and site (`context.deploy`, `context.site`). */
interface Told {
  deploy?: { context?: string; id?: string; published?: boolean } | undefined;
  site?: { name?: string | undefined; url?: string | undefined } | undefined;
}

interface DeployPlace {
  /** Netlify's deploy context; "" (or "dev") under `netlify dev`; undefined when nothing was told. */
  context: string | undefined;
  published: boolean | undefined;
  /** Under `netlify dev`, or when nothing was told: the configuration says where the deploy answers. */
  local: boolean;
  /** Where a call reaches this deploy's functions; undefined: at the request's own origin. */
  url: string | undefined;
}

/**
 * Which deploy serves an invocation, and the one address that reaches its functions again (where
 * it wakes its jobs), from what Netlify gives each invocation. The build's `CONTEXT` and
 * `DEPLOY_URL` never reach a deployed function, and `URL` there is production's, whichever deploy
 * runs. The published production deploy is reached at the site's URL: a wake-up lands on whichever
 * deploy is published by then, which shares the site's spool. Any other deploy (a deploy preview,
 * a branch deploy, an old deploy) keeps a spool of its own, and is reached at its permalink,
 * `https://<deploy id>--<site name>.netlify.app` (the form of Netlify's DEPLOY_URL): a preview's
 * branch address would lead to its next deploy, another spool.
 */
export function deployOf({ deploy, site }: Told): DeployPlace {
  const context = deploy?.context;
  const published = deploy?.published;
  if (context === undefined || context === "" || context === "dev")
    return { context, published, local: true, url: undefined };
  if (context === "production" && published === true) return { context, published, local: false, url: site?.url };
  const permalink = deploy?.id && site?.name ? `https://${deploy.id}--${site.name}.netlify.app` : undefined;
  return { context, published, local: false, url: permalink };
}

/**
 * What a Lambda-compatible function is told of its deploy: the headers of the very event from
 * which Netlify's Request/Response bootstrap builds `context.deploy`, read as it reads them
 * (@netlify/serverless-functions-api 2.16.0, dist/index.js: a missing context or id is "",
 * published only for "1"), and the site's variables it reads into `context.site`.
 */
export function toldByHeaders(headers: Record<string, string | undefined>): Told {
  return {
    deploy: {
      context: headers["x-nf-deploy-context"] ?? "",
      id: headers["x-nf-deploy-id"] ?? "",
      published: headers["x-nf-deploy-published"] === "1",
    },
    site: siteOf(),
  };
}
