// The rehearsal's environment as scripts/env.sh exports it (the e2e and the benchmark run in a
// session that sources it): read here, so the TypeScript side never restates an address or a
// default of its own.

/** The variables of scripts/env.sh that the TypeScript side reads. */
export type RehearsalVar = "CQ_REGISTRY" | "CQ_REGISTRY_CA" | "CQ_DOCKER" | "CQ_DATA_DIR";

/** The value of `name` in `env` (default: this process's); throws naming it when unset or empty. */
export function rehearsalEnv(name: RehearsalVar, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name] ?? "";
  if (value === "") throw new Error(`${name} is not set (source scripts/env.sh)`);
  return value;
}
