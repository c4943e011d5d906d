// What the bootstrap preflight looks at: the GCP project, the ids the program would create there
// and the stack, from the command's flags with the program's own defaults, validated by the
// program's own rules (the config loader's, then the identity's) so a bad flag is refused as the
// config would refuse it.
import { CONFIG_KEYS, ConfigError, parseConfig, PROJECT } from "../../lib/config";
import { IDENTITY_DEFAULTS, validateServiceAccountId, validateWifId } from "../../lib/wif";

/** The stack the bootstrap creates. */
export const DEFAULT_STACK = "prod";

/** What the preflight looks at: the project and the ids the program would create there. */
export interface PreflightTarget {
  /** GCP project id (config `gcpProject`). */
  readonly project: string;
  /** Workload identity pool id (config `wifPoolId`). */
  readonly poolId: string;
  /** Workload identity pool provider id (config `wifProviderId`). */
  readonly providerId: string;
  /** Account id of the release service account. */
  readonly releaseAccountId: string;
  /** Account id of the preview service account. */
  readonly previewAccountId: string;
  /** Pulumi stack (`name` or `org/project/name`). */
  readonly stack: string;
}

/** The program's own defaults for everything but the project (lib/config.ts, lib/wif.ts). */
export const TARGET_DEFAULTS: Omit<PreflightTarget, "project"> = {
  poolId: String(CONFIG_KEYS.wifPoolId.default),
  providerId: String(CONFIG_KEYS.wifProviderId.default),
  releaseAccountId: IDENTITY_DEFAULTS.releaseServiceAccountId,
  previewAccountId: IDENTITY_DEFAULTS.previewServiceAccountId,
  stack: DEFAULT_STACK,
};

const STACK_RE = /^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+){0,2}$/;

/**
 * Applies the defaults and validates with the program's own rules (the config loader's for the
 * project, pool and provider ids, then identity's); returns the problems, each naming its flag.
 */
export function resolveTarget(flags: Readonly<Partial<Record<keyof PreflightTarget, string>>>): {
  target?: PreflightTarget;
  problems: string[];
} {
  const problems: string[] = [];
  if (flags.project === undefined || flags.project === "") {
    return { problems: ["--project: missing: expected the GCP project id of the prod stack (gcpProject)"] };
  }
  const target: PreflightTarget = { ...TARGET_DEFAULTS, ...definedOnly(flags), project: flags.project };
  const flagOf: Record<string, string> = {
    gcpProject: "--project",
    wifPoolId: "--pool-id",
    wifProviderId: "--provider-id",
  };
  const values: Record<string, string> = {
    gcpProject: target.project,
    wifPoolId: target.poolId,
    wifProviderId: target.providerId,
    // Switch everything off so the loader only judges the three keys above.
    enableIdentity: "false",
    enableRegistries: "false",
    enableRepoSettings: "false",
    enableImage: "false",
  };
  try {
    parseConfig({ get: (key) => values[key], getSecret: () => undefined });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const [key, flag] of Object.entries(flagOf)) {
      const prefix = `${PROJECT}:${key}:`;
      for (const p of err.problems.filter((q) => q.startsWith(prefix))) {
        problems.push(`${flag} (config ${key}):${p.slice(prefix.length)}`);
      }
    }
  }
  const identityRules: [string, () => unknown][] = [
    ["--pool-id", () => validateWifId("poolId", target.poolId)],
    ["--provider-id", () => validateWifId("providerId", target.providerId)],
    [
      "--release-account-id",
      () => validateServiceAccountId("releaseServiceAccountId", target.releaseAccountId),
    ],
    [
      "--preview-account-id",
      () => validateServiceAccountId("previewServiceAccountId", target.previewAccountId),
    ],
  ];
  for (const [flag, rule] of identityRules) {
    try {
      rule();
    } catch (err) {
      const message = (err as Error).message;
      if (!problems.some((p) => p.startsWith(`${flag} `))) problems.push(`${flag}: ${message}`);
    }
  }
  if (!STACK_RE.test(target.stack)) {
    problems.push(
      `--stack: invalid value ${JSON.stringify(target.stack)}: expected a stack name such as prod`,
    );
  }
  return problems.length > 0 ? { problems } : { target, problems };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== "")) as Partial<T>;
}
