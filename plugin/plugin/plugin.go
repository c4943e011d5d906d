// Package plugin is what identifies cq-source-s3 to CloudQuery, in one place: name, team, kind
// and the version stamped at link time. It lives at <module>/plugin because the SDK's
// `package` command requires that directory (or resources/plugin) with a `Version` variable and
// links with `-X <module>/plugin.Version=<v>`; the Dockerfile links the image's binary with the
// same flags, so the image, the Hub package and the GitHub Release zips carry one binary.
package plugin

// Version is set at link time: -ldflags "-X github.com/infobloxopen/cq-source-s3/plugin.Version=v1.2.3".
var Version = "development"

// GoFlags are the go build flags of every binary the release ships: the image's (the Dockerfile
// sets GOFLAGS to this) and the SDK `package` command's (BuildTargets gives it to each target).
// -trimpath: no build paths in the binaries. grpcnotrace: gRPC without x/net/trace, the SDK's
// default tag for packaged plugins (it drops html/template and its reflection, a third of the
// binary).
const GoFlags = "-trimpath -tags=grpcnotrace"

const (
	// Name is the plugin's name on the Hub (`path: infobloxopen/s3`) and in `cq-source-<name>`.
	Name = "s3"
	// Team is the Hub team that publishes it.
	Team = "infobloxopen"
	// Kind is the plugin kind: it reads, it does not write.
	Kind = "source"
)
