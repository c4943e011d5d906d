// Realistic GitHub Actions OIDC token payloads (claim names and shapes as in GitHub's "OpenID
// Connect reference": every custom claim is a string; iat/nbf/exp are numbers) and the matrix of
// cases the WIF tests run. Ids and names are fictional but shaped like real ones.
import type { Claims } from "./sts";
// The example payload of GitHub's OIDC reference (another repository, workflow_dispatch).
import githubDocsExample from "./github-docs-example.json";

/** The repository the identity is for. */
export const REPO = {
  owner: "cq-demo",
  ownerId: "81234567",
  repository: "cq-source-s3",
  repositoryId: "712345678",
} as const;

export const POOL_NAME = "projects/123456789012/locations/global/workloadIdentityPools/github-actions";
const AUDIENCE = `https://iam.googleapis.com/${POOL_NAME}/providers/github`;

interface Run {
  owner?: string;
  ownerId?: string;
  repository?: string;
  repositoryId?: string;
  event: string;
  ref: string;
  workflow: string;
  /** Where the workflow file lives: `<owner>/<repo>/.github/workflows/<file>@<ref>`; defaults to this run's repo and ref. */
  jobWorkflowRef?: string;
  environment?: string;
  headRef?: string;
  baseRef?: string;
  actor?: string;
}

/** A full token for a workflow run, as GitHub would mint it. */
export function token(run: Run): Claims {
  const owner = run.owner ?? REPO.owner;
  const repo = `${owner}/${run.repository ?? REPO.repository}`;
  const refType = run.ref.startsWith("refs/tags/") ? "tag" : "branch";
  const workflowRef = `${repo}/.github/workflows/${run.workflow}@${run.ref}`;
  const sub =
    run.environment !== undefined
      ? `repo:${repo}:environment:${run.environment}`
      : run.event === "pull_request" || run.event === "pull_request_target"
        ? `repo:${repo}:pull_request`
        : `repo:${repo}:ref:${run.ref}`;
  const claims: Claims = {
    jti: "6f1e5c2a-8b7d-4c3e-9a0f-2d4b6c8e0a1b",
    sub,
    aud: AUDIENCE,
    ref: run.ref,
    sha: "3f786850e387550fdab836ed7e6dc881de23001b",
    repository: repo,
    repository_owner: owner,
    repository_owner_id: run.ownerId ?? REPO.ownerId,
    repository_id: run.repositoryId ?? REPO.repositoryId,
    repository_visibility: "public",
    actor_id: "5432101",
    actor: run.actor ?? "octocat",
    run_id: "11223344556",
    run_number: "42",
    run_attempt: "1",
    runner_environment: "github-hosted",
    workflow: run.workflow.replace(/\.ya?ml$/, ""),
    head_ref: run.headRef ?? "",
    base_ref: run.baseRef ?? "",
    event_name: run.event,
    ref_type: refType,
    ref_protected: refType === "tag" ? "true" : "false",
    workflow_ref: workflowRef,
    workflow_sha: "3f786850e387550fdab836ed7e6dc881de23001b",
    job_workflow_ref: run.jobWorkflowRef ?? workflowRef,
    job_workflow_sha: "3f786850e387550fdab836ed7e6dc881de23001b",
    iss: "https://token.actions.githubusercontent.com",
    nbf: 1763776500,
    exp: 1763777400,
    iat: 1763776800,
  };
  if (run.environment !== undefined) claims.environment = run.environment;
  return claims;
}

export const with_ = (claims: Claims, overrides: Claims): Claims => ({ ...claims, ...overrides });
export const without = (claims: Claims, ...keys: string[]): Claims =>
  Object.fromEntries(Object.entries(claims).filter(([k]) => !keys.includes(k)));

/** The legitimate release: a push of v1.2.3 running release.yml at that tag in `release`. */
export const releaseTag = (tag = "v1.2.3"): Claims =>
  token({ event: "push", ref: `refs/tags/${tag}`, workflow: "release.yml", environment: "release" });
export const mainPush = (): Claims =>
  token({ event: "push", ref: "refs/heads/main", workflow: "preview.yml" });
export const pullRequest = (n = 17, extra: Partial<Run> = {}): Claims =>
  token({
    event: "pull_request",
    ref: `refs/pull/${n}/merge`,
    workflow: "preview.yml",
    headRef: "feature/parquet-stats",
    baseRef: "main",
    ...extra,
  });

export type Outcome = "release" | "preview" | "denied";

export interface Case {
  readonly name: string;
  readonly claims: Claims;
  /** Whether the provider accepts the token at all (mapping evaluates and condition is true). */
  readonly accepted: boolean;
  /** The mapped `attribute.access`, or `undefined` when a mapping fails before it is computed. */
  readonly access: string | undefined;
  /** What the token can impersonate. */
  readonly outcome: Outcome;
}

const long = (n: number): string => "x".repeat(n);

/** A case the provider refuses outright: `attribute.access` is `none`. */
const denied = (name: string, claims: Claims): Case => ({
  name,
  claims,
  accepted: false,
  access: "none",
  outcome: "denied",
});

/** The matrix: allowed and denied runs, including forged-looking and malformed claim sets. */
export const CASES: readonly Case[] = [
  {
    name: "release tag push from release.yml in the release environment",
    claims: releaseTag(),
    accepted: true,
    access: "release",
    outcome: "release",
  },
  {
    name: "pre-release tag push",
    claims: releaseTag("v2.0.0-rc.1"),
    accepted: true,
    access: "release",
    outcome: "release",
  },
  {
    name: "re-run (attempt 2) of a release",
    claims: with_(releaseTag(), { run_attempt: "2" }),
    accepted: true,
    access: "release",
    outcome: "release",
  },
  {
    name: "push to the default branch from preview.yml",
    claims: mainPush(),
    accepted: true,
    access: "preview",
    outcome: "preview",
  },
  {
    name: "pull_request of this repository",
    claims: pullRequest(),
    accepted: true,
    access: "preview",
    outcome: "preview",
  },
  {
    // Runs in the base repository's context, so it looks like ours; GitHub withholds id-token:
    // write from fork PRs by default, and even if granted the identity is read-only.
    name: "pull_request from a fork (base repository context) is preview only",
    claims: pullRequest(99, { headRef: "mallory:patch-1", actor: "mallory" }),
    accepted: true,
    access: "preview",
    outcome: "preview",
  },
  denied(
    "a fork's own run pushing v1.2.3 with a copy of release.yml",
    token({
      owner: "mallory",
      ownerId: "99123456",
      repositoryId: "723456789",
      event: "push",
      ref: "refs/tags/v1.2.3",
      workflow: "release.yml",
      environment: "release",
    }),
  ),
  denied(
    "another repository of the same owner",
    token({
      repository: "cq-source-gcs",
      repositoryId: "712349999",
      event: "push",
      ref: "refs/tags/v1.2.3",
      workflow: "release.yml",
      environment: "release",
    }),
  ),
  denied(
    "same owner/name but another numeric repository id (deleted and re-created)",
    token({
      repositoryId: "799999999",
      event: "push",
      ref: "refs/tags/v1.2.3",
      workflow: "release.yml",
      environment: "release",
    }),
  ),
  denied(
    "same owner name re-registered by someone else (other owner id)",
    token({
      ownerId: "99999999",
      repositoryId: "788888888",
      event: "push",
      ref: "refs/tags/v1.2.3",
      workflow: "release.yml",
      environment: "release",
    }),
  ),
  denied(
    "push to another branch",
    token({ event: "push", ref: "refs/heads/feature/x", workflow: "preview.yml" }),
  ),
  denied(
    "push to main from another workflow (ci.yml)",
    token({ event: "push", ref: "refs/heads/main", workflow: "ci.yml" }),
  ),
  denied(
    "push to main from release.yml",
    token({ event: "push", ref: "refs/heads/main", workflow: "release.yml", environment: "release" }),
  ),
  denied(
    "pull_request_target",
    token({
      event: "pull_request_target",
      ref: "refs/heads/main",
      workflow: "preview.yml",
      headRef: "mallory:patch-1",
      baseRef: "main",
    }),
  ),
  denied("pull_request whose ref is not refs/pull/…", with_(pullRequest(), { ref: "refs/heads/main" })),
  denied(
    "workflow_dispatch on a release tag",
    token({
      event: "workflow_dispatch",
      ref: "refs/tags/v1.2.3",
      workflow: "release.yml",
      environment: "release",
    }),
  ),
  denied(
    "release event (published) on a release tag",
    token({
      event: "release",
      ref: "refs/tags/v1.2.3",
      workflow: "release.yml",
      environment: "release",
    }),
  ),
  denied("schedule on main", token({ event: "schedule", ref: "refs/heads/main", workflow: "preview.yml" })),
  denied("non-release tag x1.0", releaseTag("x1.0")),
  denied("tag va (prefix not followed by a digit)", releaseTag("va")),
  denied("tag V1.2.3 (prefix is case-sensitive)", releaseTag("V1.2.3")),
  denied(
    "release tag pushed by another workflow file (ci.yml)",
    token({ event: "push", ref: "refs/tags/v1.2.3", workflow: "ci.yml", environment: "release" }),
  ),
  denied(
    "release.yml called as a reusable workflow from another repository",
    token({
      event: "push",
      ref: "refs/tags/v1.2.3",
      workflow: "release.yml",
      environment: "release",
      jobWorkflowRef: "mallory/tools/.github/workflows/release.yml@refs/tags/v1.2.3",
    }),
  ),
  denied(
    "release.yml from another ref than the tag pushed (e.g. a branch copy)",
    token({
      event: "push",
      ref: "refs/tags/v1.2.3",
      workflow: "release.yml",
      environment: "release",
      jobWorkflowRef: "cq-demo/cq-source-s3/.github/workflows/release.yml@refs/heads/main",
    }),
  ),
  denied(
    "release tag without the environment",
    token({ event: "push", ref: "refs/tags/v1.2.3", workflow: "release.yml" }),
  ),
  denied(
    "release tag in another environment (staging)",
    token({
      event: "push",
      ref: "refs/tags/v1.2.3",
      workflow: "release.yml",
      environment: "staging",
    }),
  ),
  denied("ref_type branch with a tag-looking ref", with_(releaseTag(), { ref_type: "branch" })),
  denied("missing repository_id", without(releaseTag(), "repository_id")),
  denied("missing repository_owner_id", without(releaseTag(), "repository_owner_id")),
  denied("missing environment claim only", without(releaseTag(), "environment")),
  denied("missing job_workflow_ref", without(releaseTag(), "job_workflow_ref")),
  denied("missing event_name", without(releaseTag(), "event_name")),
  denied("missing ref and ref_type", without(mainPush(), "ref", "ref_type")),
  {
    name: "missing sub (subject falls back to the run id)",
    claims: without(releaseTag(), "sub"),
    accepted: true,
    access: "release",
    outcome: "release",
  },
  denied("GitHub's documented example token (another repository)", githubDocsExample),
  denied(
    "GitHub's documented example token re-targeted at this repository (workflow_dispatch, environment prod)",
    with_(githubDocsExample, { repository_owner_id: REPO.ownerId, repository_id: REPO.repositoryId }),
  ),
  denied("empty claim set", {}),
  {
    name: "numeric (non-string) repository_id",
    claims: with_(releaseTag(), { repository_id: 712345678 }),
    accepted: false,
    access: undefined,
    outcome: "denied",
  },
  denied(
    "injection-like ref value",
    with_(releaseTag(), {
      ref: "refs/tags/v1' || true || '",
      job_workflow_ref: "cq-demo/cq-source-s3/.github/workflows/release.yml@refs/tags/v1.2.3",
    }),
  ),
  denied(
    "injection-like event_name and environment values",
    with_(releaseTag(), { event_name: "push' ? 'release' : '", environment: "release') || ('" }),
  ),
  denied(
    "branch push with a 200-byte branch name (attributes bounded, exchange still evaluates)",
    token({ event: "push", ref: `refs/heads/${long(200)}`, workflow: "preview.yml" }),
  ),
  denied(
    "long unicode branch name on main-like push (bounded by bytes, not characters)",
    token({ event: "push", ref: `refs/heads/${"é".repeat(60)}`, workflow: "preview.yml" }),
  ),
];
