// Package java is a shim of the one type pulumi-docker-build uses from
// pulumi-java's codegen (see ../../../../README.md).
package java

// PackageInfo is the Java section of a Pulumi package schema's language map.
type PackageInfo struct {
	BuildFiles                      string            `json:"buildFiles,omitempty"`
	Dependencies                    map[string]string `json:"dependencies,omitempty"`
	GradleNexusPublishPluginVersion string            `json:"gradleNexusPublishPluginVersion,omitempty"`
}
