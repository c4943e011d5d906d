// Policy pack entry point: `pulumi preview|up --policy-pack policy [--policy-pack-config <file>]`.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("cq-source-s3-release", {
  description: "Invariants of the cq-source-s3 release infrastructure that must never regress.",
  policies,
});
