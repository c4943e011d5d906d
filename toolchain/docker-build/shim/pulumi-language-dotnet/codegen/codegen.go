// Package codegen is a shim of the one type pulumi-docker-build uses from
// pulumi-language-dotnet's codegen (see ../../README.md).
package codegen

// CSharpPackageInfo is the C# section of a Pulumi package schema's language map.
type CSharpPackageInfo struct {
	PackageReferences    map[string]string `json:"packageReferences,omitempty"`
	RespectSchemaVersion bool              `json:"respectSchemaVersion,omitempty"`
}
