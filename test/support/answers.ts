import { expect } from "vitest";

/** Checks an error answer's status and shape (JSON, `status: "error"`, the code, a message); returns its body. */
export async function expectError(response: Response, status: number, error: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  const body = await response.json();
  expect(body).toMatchObject({ status: "error", error });
  expect(typeof body.message).toBe("string");
  return body;
}
