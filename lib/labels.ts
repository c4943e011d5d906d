// OCI image labels (https://github.com/opencontainers/image-spec/blob/main/annotations.md). Pure.
// `created` is the commit time, not the build time, so the same commit yields the same labels
// (and the same image config) whenever it is rebuilt.

/** Inputs of the OCI labels. */
export interface LabelInput {
  /** GitHub owner. */
  readonly owner: string;
  /** GitHub repository name. */
  readonly repository: string;
  /** Image title. Defaults to the repository name. */
  readonly title?: string;
  /** Human description. Defaults to a description of cq-source-s3. */
  readonly description?: string;
  /** Release version (e.g. `v1.2.3`). */
  readonly version: string;
  /** Full commit sha. */
  readonly commit: string;
  /** Commit time, RFC 3339. */
  readonly commitTime: string;
  /** SPDX license expression. Defaults to `Apache-2.0`. */
  readonly licenses?: string;
  /** Vendor; omitted when unset. */
  readonly vendor?: string;
}

export const DEFAULT_DESCRIPTION = "CloudQuery source plugin that reads Parquet objects from S3";
export const DEFAULT_LICENSES = "Apache-2.0";

/** The `org.opencontainers.image.*` labels, keys sorted for stable diffs. */
export function ociLabels(input: LabelInput): Record<string, string> {
  for (const [k, v] of Object.entries({
    owner: input.owner,
    repository: input.repository,
    version: input.version,
    commit: input.commit,
    commitTime: input.commitTime,
  })) {
    if (v.trim() === "") {
      throw new Error(`OCI label input ${k} is empty`);
    }
  }
  const url = `https://github.com/${input.owner}/${input.repository}`;
  const labels: Record<string, string> = {
    "org.opencontainers.image.created": input.commitTime,
    "org.opencontainers.image.description": input.description ?? DEFAULT_DESCRIPTION,
    "org.opencontainers.image.licenses": input.licenses ?? DEFAULT_LICENSES,
    "org.opencontainers.image.revision": input.commit,
    "org.opencontainers.image.source": url,
    "org.opencontainers.image.title": input.title ?? input.repository,
    "org.opencontainers.image.url": url,
    "org.opencontainers.image.version": input.version,
  };
  if (input.vendor !== undefined && input.vendor !== "") {
    labels["org.opencontainers.image.vendor"] = input.vendor;
  }
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}
