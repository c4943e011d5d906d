// The anonymous-pull check's reading (tooling/visibility.ts decides): for every ref the release
// published, the manifest by digest as a stranger would ask for it (no credentials, the registry's
// anonymous token flow), then the finding per ref against the intended visibility in the stack
// outputs. Run by `steps.ts visibility` (scripts/release/visibility.sh) in the GitHub Release job;
// tested against an in-process registry in test/visibility.test.ts.
import { readFileSync } from "node:fs";

import { REGISTRY_CA_ENV } from "./exactTagGuard";
import { orderedRegistries, parseReleaseOutputs } from "./releaseOutputs";
import { type FetchedManifest, RegistryClient, RegistryError } from "./registryClient";
import {
  type AnonymousRead,
  classifyAnonymousRead,
  decideVisibility,
  parseRegistryVisibility,
  type VisibilityContext,
  type VisibilityFinding,
} from "./visibility";

/** What {@link readAnonymously} reads through: a registry client that holds no credentials. */
export interface AnonymousReader {
  manifest(path: string, reference: string): Promise<FetchedManifest | undefined>;
}

/** An anonymous manifest GET of `ref` (`<registry>/<path>@sha256:<digest>`) by its digest. */
export async function readAnonymously(
  ref: string,
  reader: (address: string) => AnonymousReader,
): Promise<AnonymousRead> {
  const at = ref.lastIndexOf("@");
  const repository = ref.slice(0, at);
  const slash = repository.indexOf("/");
  if (at < 0 || slash < 0) throw new Error(`not <registry>/<path>@<digest>: ${JSON.stringify(ref)}`);
  try {
    const m = await reader(repository.slice(0, slash)).manifest(
      repository.slice(slash + 1),
      ref.slice(at + 1),
    );
    return classifyAnonymousRead(
      m === undefined ? { status: 404, message: "manifest unknown" } : { ok: true },
    );
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return classifyAnonymousRead({ status: e instanceof RegistryError ? e.status : 0, message });
  }
}

/**
 * A client per registry that never sends credentials, whatever the environment holds; trusts the
 * extra CA of `CQ_REGISTRY_CA` (the rehearsal registry's) besides the system's roots.
 */
export function anonymousReaders(
  env: Readonly<Record<string, string | undefined>>,
  scheme: "https" | "http" = "https",
): (address: string) => AnonymousReader {
  const caFile = env[REGISTRY_CA_ENV] ?? "";
  const ca = caFile === "" ? undefined : readFileSync(caFile);
  // `http` only for in-process test servers; `credentials` is never given.
  return (address) => new RegistryClient(address, { ca, scheme });
}

/**
 * Every published ref of the release's stack outputs (`imageRefs`), read anonymously and decided
 * against `registryVisibility`, in display order. Throws when the outputs lack either.
 */
export async function checkAnonymousPulls(
  outputs: unknown,
  ctx: VisibilityContext,
  reader: (address: string) => AnonymousReader,
): Promise<VisibilityFinding[]> {
  const { imageRefs } = parseReleaseOutputs(outputs);
  const intended = parseRegistryVisibility(outputs);
  const findings: VisibilityFinding[] = [];
  for (const key of orderedRegistries(imageRefs)) {
    const i = intended[key];
    if (i === undefined) {
      throw new Error(`stack output 'registryVisibility' has no entry for the published registry ${key}`);
    }
    const ref = imageRefs[key];
    findings.push(decideVisibility({ key, ref, intended: i, read: await readAnonymously(ref, reader) }, ctx));
  }
  return findings;
}
