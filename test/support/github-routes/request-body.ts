import { githubError, type Answer } from "../fake-github/answers.ts";
import { isRecord } from "../fake-github/put-validation.ts";

export const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A request's JSON object body, or GitHub's 400 for one that is not JSON or not an object. */
export async function readJsonBody(
  request: Request,
  docs: string,
): Promise<{ body: Record<string, unknown> } | { refused: Answer }> {
  let body: unknown;
  try {
    body = JSON.parse(await request.text());
  } catch {
    return { refused: githubError(400, "Problems parsing JSON", docs) };
  }
  return isRecord(body) ? { body } : { refused: githubError(400, "Body should be a JSON object", docs) };
}
