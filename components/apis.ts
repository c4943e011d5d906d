// GCP API enablement, in one place: the Service + propagation wait that every resource calling an
// API depends on (which API each resource type calls is data, in lib/gcpApis.ts). Without it a
// bootstrap on a fresh project creates the pool, accounts and repository in parallel with the
// Services that enable their APIs, and fails with 403 "API has not been used in project … or it
// is disabled".
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type * as time from "@pulumiverse/time";

import { apiOf, type ApiCallingType, type GcpApi } from "../lib/gcpApis";

/** Type token of the propagation wait ({@link enableApis}). */
export const WAIT_TYPE = "time:index/sleep:Sleep";

/**
 * Seconds to wait after enabling APIs before creating the first resource that calls them. The
 * enable operation finishes before every GCP frontend knows: the 403 a disabled API answers says
 * "If you enabled this API recently, wait a few minutes for the action to propagate to our systems
 * and retry" (quoted in GoogleCloudPlatform/terraform-dynamic-python-webapp#67), and Google's own
 * Terraform provider tests add a 60 s `time_sleep` after enabling an API for this reason
 * (GoogleCloudPlatform/magic-modules#10076). Paid once, when the wait is created (bootstrap, or an
 * API added later); later runs find it in state and do not wait.
 */
export const API_PROPAGATION_WAIT_SECONDS = 60;

/** What {@link enableApis} registered. */
export interface ApiEnablement {
  /** The Service of each API enabled here. */
  readonly services: ReadonlyMap<GcpApi, gcp.projects.Service>;
  /** The wait after all of them; `undefined` when nothing is enabled here. */
  readonly wait?: pulumi.Resource;
  /**
   * `dependsOn` for a resource of this type: the wait, when its API is enabled here; nothing when
   * it is enabled elsewhere (another component, or whoever owns the project).
   */
  dependsOn(type: ApiCallingType): pulumi.Resource[];
}

/**
 * Enables `apis` on `project` (children of `parent`, named `<name>-<api>`), never disabling them on
 * destroy, and registers one wait (`<name>-api-wait`, {@link API_PROPAGATION_WAIT_SECONDS}) after
 * all of them. With no APIs it registers nothing.
 */
export function enableApis(
  name: string,
  project: pulumi.Input<string>,
  apis: readonly GcpApi[],
  parent: pulumi.Resource,
): ApiEnablement {
  const services = new Map(
    apis.map((api) => [
      api,
      new gcp.projects.Service(
        `${name}-${api.split(".")[0]}`,
        // Other stacks or people may rely on these APIs: never switch them off.
        { project, service: api, disableOnDestroy: false, disableDependentServices: false },
        { parent },
      ),
    ]),
  );
  if (services.size === 0) {
    return { services, dependsOn: () => [] };
  }
  // Loaded only here: the `local` stack (image only) never enables an API, so it neither loads nor
  // registers the time provider, whose plugin the offline machine does not have.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Sleep } = require("@pulumiverse/time") as typeof time;
  const wait = new Sleep(
    `${name}-api-wait`,
    {
      createDuration: `${API_PROPAGATION_WAIT_SECONDS}s`,
      // A Service enabled later (or replaced) replaces the wait, so its dependants wait again.
      triggers: Object.fromEntries([...services].map(([api, service]) => [api, service.id])),
    },
    { parent, dependsOn: [...services.values()] },
  );
  return {
    services,
    wait,
    dependsOn: (type) => {
      const api = apiOf(type);
      return api !== undefined && services.has(api) ? [wait] : [];
    },
  };
}
