// Which GCP API each resource type of this program calls, as data: the type tokens it registers,
// the APIs it enables and the resource types that must wait for each. The components enable the
// APIs and wait (components/apis.ts); the bootstrap preflight (tooling/preflight/) checks the same
// lists before there is a stack. Pure; tested in test/apis.test.ts against the program's
// registrations under mocks.

/** Type tokens of the GCP resources this program registers (as the engine and the mocks see them). */
export const GCP_TYPES = {
  service: "gcp:projects/service:Service",
  pool: "gcp:iam/workloadIdentityPool:WorkloadIdentityPool",
  provider: "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider",
  serviceAccount: "gcp:serviceaccount/account:Account",
  serviceAccountIamMember: "gcp:serviceaccount/iAMMember:IAMMember",
  serviceAccountKey: "gcp:serviceaccount/key:Key",
  repository: "gcp:artifactregistry/repository:Repository",
  repositoryIamMember: "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
  bucketIamMember: "gcp:storage/bucketIAMMember:BucketIAMMember",
} as const;

/**
 * The APIs this program enables, each with the resource types whose create/read/update/delete
 * calls go to it (so they must wait for its enablement). iamcredentials and sts are called by the
 * workflows at run time (token exchange, impersonation), by no resource here.
 */
export const API_RESOURCE_TYPES = {
  "iam.googleapis.com": [
    GCP_TYPES.pool,
    GCP_TYPES.provider,
    GCP_TYPES.serviceAccount,
    GCP_TYPES.serviceAccountIamMember,
    GCP_TYPES.serviceAccountKey,
  ],
  "iamcredentials.googleapis.com": [],
  "sts.googleapis.com": [],
  "artifactregistry.googleapis.com": [GCP_TYPES.repository, GCP_TYPES.repositoryIamMember],
} as const;

/** An API this program enables. */
export type GcpApi = keyof typeof API_RESOURCE_TYPES;
/** A resource type that calls an API this program enables. */
export type ApiCallingType = (typeof API_RESOURCE_TYPES)[GcpApi][number];

/** Every API this program enables (the keys of {@link API_RESOURCE_TYPES}). */
export const GCP_APIS = Object.keys(API_RESOURCE_TYPES) as GcpApi[];

/** APIs that token exchange and impersonation go through (iam also serves identity's resources). */
export const IDENTITY_APIS: readonly GcpApi[] = [
  "iam.googleapis.com",
  "iamcredentials.googleapis.com",
  "sts.googleapis.com",
];

/** GCP resource types that call an API this program does not enable, and why that is safe. */
export const NOT_ENABLED_HERE: Readonly<Record<string, string>> = {
  [GCP_TYPES.service]:
    "calls serviceusage.googleapis.com (and cloudresourcemanager), which must already be on: it is what enables the others",
  [GCP_TYPES.bucketIamMember]:
    "calls storage.googleapis.com, always on in a project that hosts the Pulumi state bucket this stack runs from",
};

/** The API a resource type calls, or `undefined` when it calls none this program enables. */
export function apiOf(type: string): GcpApi | undefined {
  return GCP_APIS.find((api) => (API_RESOURCE_TYPES[api] as readonly string[]).includes(type));
}
