package spec

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/invopop/jsonschema"
)

//go:generate go run ./gen

// JSONSchema is the JSON schema of Spec that the plugin gives the CloudQuery
// CLI. It is generated: after changing Spec, run `go generate ./...`.
//
//go:embed schema.json
var JSONSchema string

// GenerateJSONSchema returns the JSON schema of Spec, with the fields' doc
// comments as descriptions. It reads this package's source, so it must run in
// this package's directory (as `go generate` and `go test` do).
func GenerateJSONSchema() ([]byte, error) {
	r := &jsonschema.Reflector{
		RequiredFromJSONSchemaTags: true, // only `jsonschema:"required"` fields, not every field without omitempty
		ExpandedStruct:             true, // Spec's properties at the top level rather than behind a $ref
	}
	if err := r.AddGoComments(reflect.TypeFor[Spec]().PkgPath(), "."); err != nil {
		return nil, fmt.Errorf("read doc comments: %w", err)
	}
	sc := r.Reflect(&Spec{})
	if sc.Description == "" {
		return nil, errors.New("no doc comment found for Spec: run in the directory of package spec")
	}
	b, err := json.MarshalIndent(sc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
