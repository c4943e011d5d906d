// The registries the image is pushed to, as data: one entry per registry says where it is, which
// repository the image gets there, where the push credentials come from, and what a workflow step
// must log in with to sign or attest there. Adding a registry is one entry here (plus its config
// switch in lib/config.ts); the program's pushes, the stack outputs (`imageRepositories`,
// `registryLogins`), the policy pack's allowlist (scripts/release/steps.ts `policy-config`) and
// the workflows' cosign logins (scripts/release/common.sh) all follow. Pure; tested in
// test/imageRegistries.test.ts.

import type { ConfigKey } from "./config";

/** Registry keys; also the config switch of each registry that has one. */
export type RegistryKey = "gcr" | "ghcr" | "local";

/** Which registries are enabled and the values their repositories are made of. */
export interface RepositoryInput {
  readonly gcr: boolean;
  readonly ghcr: boolean;
  readonly gcpProject?: string;
  readonly githubOwner: string;
  readonly imageName: string;
  readonly localRegistry?: string;
}

/** Where a registry's push credentials come from. */
export type CredentialSource =
  /** A GCP access token of the identity running the program (username `oauth2accesstoken`). */
  | { readonly kind: "gcpAccessToken" }
  /**
   * Two config keys (lib/config.ts), the password one a secret; configure.sh sets them from the
   * login's variables (the workflow passes github.actor and the job's token for ghcr).
   */
  | { readonly kind: "config"; readonly usernameKey: ConfigKey; readonly passwordKey: ConfigKey }
  /** None: a plain local registry. */
  | { readonly kind: "none" };

/** What a workflow step logs in with: a fixed username or one from an environment variable. */
export interface RegistryLogin {
  readonly address: string;
  /** A fixed username, or… */
  readonly username?: string;
  /** …the environment variable holding it. */
  readonly usernameEnv?: string;
  /** The environment variable holding the password or token; no login when it is unset. */
  readonly passwordEnv: string;
}

/**
 * Who may pull from a registry without credentials, and who decides it:
 * - `program`: config key `publicKey` says whether it is public, and the program makes it so
 *   (components/registries.ts grants `allUsers` read on the repository) when the registries
 *   component is enabled;
 * - `manual`: config key `publicKey` says whether it is meant to be public, but no API can set it
 *   (GHCR: only the package settings page can); the release can only check it;
 * - `anonymous`: always public, nothing to configure (a plain local registry).
 */
export type Visibility =
  | { readonly kind: "program"; readonly publicKey: PublicKey }
  | { readonly kind: "manual"; readonly publicKey: PublicKey }
  | { readonly kind: "anonymous" };

/** The config keys saying whether a registry is public (lib/config.ts: `gcrPublic`, `ghcrPublic`). */
export type PublicKey = Extract<ConfigKey, `${string}Public`>;

/** One registry. */
export interface RegistryEntry {
  readonly key: RegistryKey;
  /** Registry host[:port]; undefined when the registry is not enabled by `input`. */
  readonly address: (input: RepositoryInput) => string | undefined;
  /** `<address>/<path>` of the image. */
  readonly repository: (input: RepositoryInput, address: string) => string;
  readonly credentials: CredentialSource;
  /** What the workflows log in with (sign, attest, read assets); none for an anonymous registry. */
  readonly login?: Omit<RegistryLogin, "address">;
  /** Rank in release notes (lower first): the registry users should pull from first. */
  readonly displayRank: number;
  /** Who may pull without credentials (see {@link Visibility}). */
  readonly visibility: Visibility;
  /**
   * The registry answers "denied" rather than "not found" for an image that was never pushed
   * (GHCR, for a package that does not exist yet). The exact-tag guard
   * (tooling/exactTagGuard.ts) then counts a denial of the login's credentials as absent: the push
   * uses the same credentials, so it cannot write there either and nothing there can move.
   * Elsewhere a denial fails the guard. Defaults to false.
   */
  readonly deniedMeansAbsent?: boolean;
}

/** `gcr.io/<project>/<imageName>` (served by the Artifact Registry repository `gcr.io`). */
export function gcrRepository(project: string, imageName: string): string {
  return `gcr.io/${project}/${imageName}`;
}

/** `ghcr.io/<owner>/<imageName>`; GHCR paths must be lowercase, so the owner is lowercased. */
export function ghcrRepository(owner: string, imageName: string): string {
  return `ghcr.io/${owner.toLowerCase()}/${imageName}`;
}

/** Every registry, in push order: the first enabled one is the primary (it holds the build cache). */
export const REGISTRIES: readonly RegistryEntry[] = [
  {
    key: "gcr",
    address: (i) => {
      if (!i.gcr) return undefined;
      if (i.gcpProject === undefined) throw new Error("gcr is enabled but gcpProject is not set");
      return "gcr.io";
    },
    repository: (i) => gcrRepository(i.gcpProject as string, i.imageName),
    credentials: { kind: "gcpAccessToken" },
    login: { username: "oauth2accesstoken", passwordEnv: "GCR_TOKEN" },
    displayRank: 1,
    visibility: { kind: "program", publicKey: "gcrPublic" },
  },
  {
    key: "ghcr",
    address: (i) => (i.ghcr ? "ghcr.io" : undefined),
    repository: (i) => ghcrRepository(i.githubOwner, i.imageName),
    credentials: { kind: "config", usernameKey: "ghcrUsername", passwordKey: "ghcrToken" },
    login: { usernameEnv: "GHCR_USERNAME", passwordEnv: "GHCR_TOKEN" },
    // Public and pullable anonymously (ghcrPublic): shown first.
    displayRank: 0,
    deniedMeansAbsent: true,
    // A package first pushed with GITHUB_TOKEN may be private, and no REST or GraphQL API changes
    // a package's visibility: a person does it once on the package settings page.
    visibility: { kind: "manual", publicKey: "ghcrPublic" },
  },
  {
    key: "local",
    address: (i) => i.localRegistry,
    repository: (i, address) => `${address}/${i.imageName}`,
    credentials: { kind: "none" },
    displayRank: 2,
    visibility: { kind: "anonymous" },
  },
];

/** An image repository (no tag) in one registry. */
export interface ImageRepository {
  readonly key: RegistryKey;
  /** Registry host, e.g. `gcr.io`. */
  readonly address: string;
  /** `<address>/<path>`, e.g. `gcr.io/my-project/cq-source-s3`. */
  readonly repository: string;
}

/** The repositories of every enabled registry, in {@link REGISTRIES} order (the first is the primary). */
export function imageRepositories(input: RepositoryInput): ImageRepository[] {
  return REGISTRIES.flatMap((entry) => {
    const address = entry.address(input);
    return address === undefined
      ? []
      : [{ key: entry.key, address, repository: entry.repository(input, address) }];
  });
}

/** The logins a workflow needs for the enabled registries (the `registryLogins` stack output). */
export function loginsFor(input: RepositoryInput): RegistryLogin[] {
  return REGISTRIES.flatMap((entry) => {
    const address = entry.address(input);
    return address === undefined || entry.login === undefined ? [] : [{ address, ...entry.login }];
  });
}

/**
 * The policy pack's push allowlist: the parent path of every enabled repository
 * (`gcr.io/<project>/`, `ghcr.io/<owner>/`, `127.0.0.1:5000/`), deduplicated.
 */
export function allowedRegistries(input: RepositoryInput): string[] {
  const parents = imageRepositories(input).map(
    (r) => `${r.repository.slice(0, r.repository.lastIndexOf("/"))}/`,
  );
  return [...new Set(parents)];
}

/**
 * The config keys configure.sh sets from the environment, per registry whose push credentials
 * come from config: `usernameKey usernameEnv passwordKey passwordEnv` (`steps.ts push-credentials`).
 */
export function configCredentials(): {
  usernameKey: ConfigKey;
  usernameEnv: string;
  passwordKey: ConfigKey;
  passwordEnv: string;
}[] {
  return REGISTRIES.flatMap((entry) => {
    const c = entry.credentials;
    if (c.kind !== "config" || entry.login?.usernameEnv === undefined) return [];
    return [
      {
        usernameKey: c.usernameKey,
        usernameEnv: entry.login.usernameEnv,
        passwordKey: c.passwordKey,
        passwordEnv: entry.login.passwordEnv,
      },
    ];
  });
}

/** The entry of `key`; throws for a key no entry has. */
export function registryEntry(key: RegistryKey): RegistryEntry {
  const entry = REGISTRIES.find((r) => r.key === key);
  if (entry === undefined) throw new Error(`no registry ${JSON.stringify(key)}`);
  return entry;
}

/** Registry keys in display order: by {@link RegistryEntry.displayRank}, unknown keys last, sorted. */
export function orderedRegistryKeys(keys: readonly string[]): string[] {
  const rank = (key: string): number =>
    REGISTRIES.find((r) => r.key === key)?.displayRank ?? REGISTRIES.length;
  return [...keys].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/**
 * The credentials a registry's {@link RegistryEntry.login} names, read from `env` (the workflow's
 * variables), for reading the registry outside Pulumi (the exact-tag guard); undefined when the
 * registry has no login or its password variable is unset (anonymous). Throws when the password is
 * set but the username variable is not.
 */
export function loginCredentials(
  key: RegistryKey,
  env: Readonly<Record<string, string | undefined>>,
): { username: string; password: string } | undefined {
  const login = registryEntry(key).login;
  if (login === undefined) return undefined;
  const password = env[login.passwordEnv] ?? "";
  if (password === "") return undefined;
  const username = login.username ?? (login.usernameEnv === undefined ? "" : (env[login.usernameEnv] ?? ""));
  if (username === "") {
    throw new Error(
      `${login.passwordEnv} is set but ${login.usernameEnv ?? "the username"} is not (login to ${key})`,
    );
  }
  return { username, password };
}

/** What decides each registry's intended visibility: the public keys and the registries switch. */
export interface VisibilityInput extends RepositoryInput, Readonly<Record<PublicKey, boolean>> {
  /** Whether the registries component (which grants the `program` kind its public read) is on. */
  readonly enableRegistries: boolean;
}

/** A registry's intended visibility, as the `registryVisibility` stack output carries it. */
export interface IntendedVisibility {
  /** Meant to be pullable without credentials. */
  readonly public: boolean;
  /** The config key that says so; none for an always-anonymous registry. */
  readonly key?: PublicKey;
  /**
   * The program grants the anonymous read itself when `public` (so a refusal means its
   * infrastructure is not applied as configured); false when only a person can change it.
   */
  readonly setByProgram: boolean;
}

/**
 * The intended visibility of every enabled registry (the `registryVisibility` stack output, which
 * the release's anonymous-pull check compares with what the registries answer).
 */
export function registryVisibility(input: VisibilityInput): Record<string, IntendedVisibility> {
  return Object.fromEntries(
    imageRepositories(input).map(({ key }) => {
      const v = registryEntry(key).visibility;
      if (v.kind === "anonymous") return [key, { public: true, setByProgram: false }];
      return [
        key,
        {
          public: input[v.publicKey],
          key: v.publicKey,
          setByProgram: v.kind === "program" && input.enableRegistries,
        },
      ];
    }),
  );
}
