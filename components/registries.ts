// Registries: the GCP APIs the release needs, and the Artifact Registry repository `gcr.io` that
// serves gcr.io/<project>/… since GCR stopped taking writes, its cleanup policy and IAM (writer,
// preview reader, and the public reader when gcrPublic). GHCR has no Pulumi resource (a package
// appears on first push, and no API sets its visibility); where each registry's image lives and
// who may pull it is lib/imageRegistries.ts.
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";

import { cleanupPolicies } from "../lib/cleanup";
import { GCP_APIS, GCP_TYPES as T, type GcpApi } from "../lib/gcpApis";
import { RELEASE_TAG_PREFIX } from "../lib/release";
import { enableApis } from "./apis";

/**
 * APIs the release infrastructure uses (every API in lib/gcpApis.ts). Never disabled on
 * destroy: other things may use them.
 */
export const REQUIRED_APIS: readonly GcpApi[] = GCP_APIS;

/** Arguments of {@link Registries}. */
export interface RegistriesArgs {
  /** GCP project ID. */
  readonly project: pulumi.Input<string>;
  /** APIs another component already enables (e.g. identity's iam/iamcredentials/sts). Defaults to none. */
  readonly skipApis?: readonly string[];
  /** IAM member granted `roles/artifactregistry.writer` on the repository (the release identity only). */
  readonly writerMember?: pulumi.Input<string>;
  /** IAM member granted `roles/artifactregistry.reader` on the repository (the preview identity). */
  readonly readerMember?: pulumi.Input<string>;
  /**
   * Grant `allUsers` `roles/artifactregistry.reader` on the repository, so anyone can pull its
   * images without credentials (IAM is per repository: every image in it becomes public).
   * Defaults to false.
   */
  readonly publicRead?: boolean;
}

/** The IAM member that stands for anyone on the internet, authenticated or not. */
export const PUBLIC_MEMBER = "allUsers";

/** APIs, the Artifact Registry repository `gcr.io` (location `us`) and its IAM. */
export class Registries extends pulumi.ComponentResource {
  /** Full resource name of the Artifact Registry repository. */
  public readonly repositoryName: pulumi.Output<string>;

  constructor(name: string, args: RegistriesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cq-release:registries:Registries", name, args, opts);

    // Enables (and waits for) every API not enabled by another component, so with identity off
    // this component still waits for everything it calls. Each resource below depends on that
    // wait (components/apis.ts); the IAM members also depend, through their `member` inputs, on
    // the service accounts they bind.
    const skip = new Set(args.skipApis ?? []);
    const apis = enableApis(
      name,
      args.project,
      REQUIRED_APIS.filter((service) => !skip.has(service)),
      this,
    );

    // Protected: deleting it would delete every released image.
    const repository = new gcp.artifactregistry.Repository(
      `${name}-gcr-io`,
      {
        project: args.project,
        location: "us",
        repositoryId: "gcr.io",
        format: "DOCKER",
        description: "gcr.io compatibility repository for released images",
        cleanupPolicyDryRun: false,
        // Keep-only: deleting untagged versions would delete the release's evidence (lib/cleanup.ts).
        cleanupPolicies: cleanupPolicies(RELEASE_TAG_PREFIX),
      },
      { parent: this, protect: true, dependsOn: apis.dependsOn(T.repository) },
    );

    const binding = (suffix: string, role: string, member: pulumi.Input<string>) =>
      new gcp.artifactregistry.RepositoryIamMember(
        `${name}-${suffix}`,
        {
          project: repository.project,
          location: repository.location,
          repository: repository.name,
          role,
          member,
        },
        { parent: this, dependsOn: apis.dependsOn(T.repositoryIamMember) },
      );
    if (args.writerMember !== undefined) {
      binding("release-writer", "roles/artifactregistry.writer", args.writerMember);
    }
    if (args.readerMember !== undefined) {
      binding("preview-reader", "roles/artifactregistry.reader", args.readerMember);
    }
    // An open-source plugin: `docker pull gcr.io/<project>/…` must work without a login. An
    // organisation policy restricting member domains (iam.allowedPolicyMemberDomains) refuses it.
    if (args.publicRead === true) {
      binding("public-reader", "roles/artifactregistry.reader", PUBLIC_MEMBER);
    }

    this.repositoryName = repository.id;
    this.registerOutputs({
      repositoryName: this.repositoryName,
    });
  }
}
