// cq-source-s3 release infrastructure, as a flow: validated config, then identity → registries →
// repository settings → image, then the stack outputs (which the release workflow reads).
// Components are switched by plain booleans from config, never by an Output.
import * as gcp from "@pulumi/gcp";

import { GitHubIdentity } from "./components/identity";
import { PluginImage } from "./components/image";
import { Registries } from "./components/registries";
import { RepoSettings } from "./components/repoSettings";
import { loadConfig } from "./lib/config";
import { IDENTITY_APIS } from "./lib/gcpApis";
import { PLUGIN_IMAGE_NAME } from "./lib/imageTarget";
import { loginsFor, registryVisibility as visibilityOf } from "./lib/imageRegistries";
import { imageArgsFromConfig } from "./lib/stackArgs";

// Throws (naming the key, the value and what is expected) before any resource is registered.
const cfg = loadConfig();

const identity = cfg.enableIdentity
  ? new GitHubIdentity("identity", {
      project: cfg.gcpProject as string,
      owner: cfg.githubOwner,
      ownerId: cfg.githubOwnerId as string,
      repository: cfg.githubRepository,
      repositoryId: cfg.githubRepositoryId as string,
      defaultBranch: cfg.defaultBranch,
      poolId: cfg.wifPoolId,
      providerId: cfg.wifProviderId,
      stateBucket: cfg.stateBucket,
      allowServiceAccountKeys: cfg.allowServiceAccountKeys,
    })
  : undefined;

const registries = cfg.enableRegistries
  ? new Registries("registries", {
      project: cfg.gcpProject as string,
      skipApis: identity === undefined ? [] : IDENTITY_APIS,
      writerMember: identity?.releaseMember,
      readerMember: identity?.previewMember,
      publicRead: cfg.gcr && cfg.gcrPublic,
    })
  : undefined;

if (cfg.enableRepoSettings && identity !== undefined && cfg.pulumiConfigPassphrase !== undefined) {
  new RepoSettings("repo", {
    owner: cfg.githubOwner,
    repository: cfg.githubRepository,
    variables: {
      GCP_PROJECT_ID: cfg.gcpProject as string,
      GCP_WORKLOAD_IDENTITY_PROVIDER: identity.providerName,
      GCP_RELEASE_SERVICE_ACCOUNT: identity.releaseServiceAccountEmail,
      GCP_PREVIEW_SERVICE_ACCOUNT: identity.previewServiceAccountEmail,
      PULUMI_BACKEND_URL: `gs://${cfg.stateBucket}`,
    },
    pulumiConfigPassphrase: cfg.pulumiConfigPassphrase,
    cloudqueryApiKey: cfg.hubPublish ? cfg.cloudqueryApiKey : undefined,
  });
}

const image = cfg.enableImage
  ? new PluginImage(
      PLUGIN_IMAGE_NAME,
      imageArgsFromConfig(cfg, {
        // Only asked for when gcr is on, so a local stack never talks to GCP.
        gcrAccessToken: cfg.gcr ? gcp.organizations.getClientConfigOutput().accessToken : undefined,
        env: process.env,
      }),
      { dependsOn: registries === undefined ? [] : [registries] },
    )
  : undefined;

export const imageDigest = image?.digest;
export const imageRefs = image?.refs;
export const imageTags = image?.tags;
export const imageRepositories = image?.repositories;
export const pullCommands = image?.pullCommands;
export const platforms = image?.platforms;
export const platformDigests = image?.platformDigests;
export const imageBuildArgs = image?.buildArgs;
// What the workflows log in to for signing and attesting: one entry per registry pushed to.
export const registryLogins = cfg.enableImage ? loginsFor(cfg) : undefined;
// Who is meant to pull each registry without credentials; the release's anonymous-pull check
// compares it with what the registries answer (tooling/visibility.ts).
export const registryVisibility = cfg.enableImage ? visibilityOf(cfg) : undefined;
// Whether the release publishes to the CloudQuery Hub too (the workflow's hub job runs on it).
export const hubPublish = cfg.hubPublish;
export const version = cfg.version;
export const commit = cfg.commit;
export const workloadIdentityProvider = identity?.providerName;
export const releaseServiceAccount = identity?.releaseServiceAccountEmail;
export const previewServiceAccount = identity?.previewServiceAccountEmail;
