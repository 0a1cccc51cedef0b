/** An operating system as the dashboard groups installs: its family, and the version users know. */
export interface OperatingSystem {
  family: "Windows" | "macOS" | "Linux" | "other" | "unknown";
  /** The version as its users name it (`11`, `14`, `6.1`), when the string tells it. */
  version: string | null;
}

/** Windows 11 still calls itself Windows 10 to Python's `platform`; its builds start here. */
const WINDOWS_11_BUILD = 22_000;
/** Darwin 20 is macOS 11, ... Darwin 24 is macOS 15; then Apple named versions after the year: Darwin 25 is macOS 26. */
const FIRST_NUMBERED_DARWIN = 20;
const FIRST_YEAR_DARWIN = 25;

/**
 * What a client reports of its OS (Python's `platform.platform()` or `system()-release`, as
 * Vector Inspector sends it: `Windows-10-10.0.22631-SP0`, `Darwin-23.1.0`, `macOS-14.1-arm64-arm-64bit`,
 * `Linux-6.1-x86_64-with-glibc2.36`), as a family and a version.
 */
export function normalizeOs(reported: unknown): OperatingSystem {
  if (typeof reported !== "string" || reported.trim() === "") return { family: "unknown", version: null };
  const [name = "", ...rest] = reported.trim().split("-");
  switch (name.toLowerCase()) {
    case "windows": {
      const build = Number(/^\d+\.\d+\.(\d+)$/.exec(rest[1] ?? "")?.[1]);
      if (build >= WINDOWS_11_BUILD) return { family: "Windows", version: "11" };
      return { family: "Windows", version: rest[0] && /^[\w.]+$/.test(rest[0]) ? rest[0] : null };
    }
    case "darwin": {
      const major = Number(/^(\d+)/.exec(rest[0] ?? "")?.[1]);
      if (!Number.isInteger(major) || major < 10) return { family: "macOS", version: null };
      if (major >= FIRST_YEAR_DARWIN) return { family: "macOS", version: String(major + 1) };
      return { family: "macOS", version: major >= FIRST_NUMBERED_DARWIN ? String(major - 9) : `10.${major - 4}` };
    }
    case "macos":
      return { family: "macOS", version: /^(\d+)/.exec(rest[0] ?? "")?.[1] ?? null };
    case "linux":
      return { family: "Linux", version: /^(\d+\.\d+)/.exec(rest[0] ?? "")?.[1] ?? null };
    default:
      return { family: "other", version: null };
  }
}
