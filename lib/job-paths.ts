/**
 * Where each job a caller starts is answered: under /api/v1/jobs/, through a netlify.toml redirect
 * that carries a rate limit of its own (Netlify applies rate limits to redirects only). A rewrite
 * keeps the path the caller asked for, so the function's own /.netlify/functions/ path, which no
 * rule covers, is told apart and refused.
 */
export const jobPaths = {
  flush: "/api/v1/jobs/flush",
  publish: "/api/v1/jobs/publish",
  retention: "/api/v1/jobs/retention",
  erase: "/api/v1/jobs/erase",
} as const;
