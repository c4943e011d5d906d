// What a release `pulumi up` may change: the image component and the resources below it, nothing
// else (identity, registries and repository settings are the platform team's; a release sees them
// as pending in previews). The workflow's up step passes `releaseTargets()` as `--target` values
// (scripts/release/up.sh); test/imageTarget.test.ts checks against the program under mocks that
// they select exactly the image resources.
import { PROJECT } from "./config";

/** Type token of the image component (`components/image.ts`, `PluginImage`). */
export const PLUGIN_IMAGE_TYPE = "cq-release:image:PluginImage";

/** Logical name of the image component in `index.ts`; its children are named `<name>-…`. */
export const PLUGIN_IMAGE_NAME = "plugin";

const STACK_RE = /^[A-Za-z0-9_.-]+$/;

/** URN of the image component in `stack`: `urn:pulumi:<stack>::<project>::<type>::<name>`. */
export function pluginImageUrn(stack: string, project: string = PROJECT): string {
  if (!STACK_RE.test(stack)) {
    throw new Error(`stack name ${JSON.stringify(stack)} is not a plain stack name`);
  }
  return `urn:pulumi:${stack}::${project}::${PLUGIN_IMAGE_TYPE}::${PLUGIN_IMAGE_NAME}`;
}

/**
 * `--target` values for the release: the component itself, and (glob) every resource whose parent
 * chain starts at a PluginImage and whose name starts with `<name>-` — the per-platform Images and
 * the Indexes, including ones the program no longer declares (their deletion is part of the update).
 */
export function releaseTargets(stack: string, project: string = PROJECT): string[] {
  const component = pluginImageUrn(stack, project);
  return [component, `urn:pulumi:${stack}::${project}::${PLUGIN_IMAGE_TYPE}$**::${PLUGIN_IMAGE_NAME}-*`];
}

/**
 * Whether a `--target` value selects `urn`, as the Pulumi engine (v3.248) decides it: a value with
 * no `*` is a literal URN; otherwise `**` matches anything and `*` anything but `:`
 * (pkg/resource/deploy/deployment.go, `UrnTargets.getMatcher`).
 */
export function targetMatches(target: string, urn: string): boolean {
  if (!target.includes("*")) {
    return target === urn;
  }
  const quote = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = target
    .split("**")
    .map((part) => part.split("*").map(quote).join("[^:]*"))
    .join(".*");
  return new RegExp(`^${pattern}$`).test(urn);
}
