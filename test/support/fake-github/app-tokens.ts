/**
 * GitHub Apps as GitHub serves them: an app signs a JWT (RS256, `iss` its id, at most ten minutes
 * long) with its private key and trades it at `POST /app/installations/{id}/access_tokens` for an
 * installation token (`ghs_…`) that lasts an hour.
 */
import { createPublicKey, randomBytes, verify, type KeyObject } from "node:crypto";

/** GitHub refuses a JWT that claims to last longer. */
const MAX_JWT_LIFETIME_S = 10 * 60;
/** And allows this much clock drift on `iat`. */
const CLOCK_DRIFT_S = 60;
const INSTALLATION_TOKEN_LIFETIME_MS = 60 * 60 * 1000;

export interface FakeApp {
  id: string;
  /** The app's public key (PEM, or a key object): what GitHub keeps of the key pair. */
  publicKey: string | KeyObject;
  installationId: number;
}

export class AppTokens {
  private readonly key: KeyObject;
  private readonly tokens = new Map<string, number>();
  /** Installation tokens minted so far. */
  minted = 0;

  constructor(
    private readonly app: FakeApp,
    private readonly now: () => number,
  ) {
    this.key = typeof app.publicKey === "string" ? createPublicKey(app.publicKey) : app.publicKey;
  }

  /** Why GitHub would refuse `authorization` as this app's JWT; undefined when it takes it. */
  jwtProblem(authorization: string | null): string | undefined {
    const jwt = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
    const [header, payload, signature] = jwt?.split(".") ?? [];
    if (!header || !payload || signature === undefined) return "A JSON web token could not be decoded";
    const signed = verify(
      "RSA-SHA256",
      Buffer.from(`${header}.${payload}`),
      this.key,
      Buffer.from(signature, "base64url"),
    );
    if (!signed) return "A JSON web token could not be decoded";
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as {
      iss?: unknown;
      iat?: number;
      exp?: number;
    };
    const now = Math.floor(this.now() / 1000);
    if (String(claims.iss) !== this.app.id) return "Integration not found";
    if ((claims.exp ?? 0) <= now || (claims.iat ?? Infinity) > now + CLOCK_DRIFT_S)
      return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
    if ((claims.exp ?? 0) - (claims.iat ?? 0) > MAX_JWT_LIFETIME_S + CLOCK_DRIFT_S)
      return "'Expiration time' claim ('exp') is too far in the future";
    return undefined;
  }

  /** A new installation token, and when it expires. */
  mint(): { token: string; expiresAt: Date } {
    const token = `ghs_${randomBytes(18).toString("hex")}`;
    const expiresAt = new Date(this.now() + INSTALLATION_TOKEN_LIFETIME_MS);
    this.tokens.set(token, expiresAt.getTime());
    this.minted += 1;
    return { token, expiresAt };
  }

  /** Whether `token` is an installation token that has not expired (nor been revoked). */
  holds(token: string): boolean {
    return (this.tokens.get(token) ?? 0) > this.now();
  }

  /** Every installation token stops working, as when the app's installation is suspended. */
  revokeAll(): void {
    this.tokens.clear();
  }
}
