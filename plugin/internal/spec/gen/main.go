// Command gen writes schema.json, the JSON schema of spec.Spec. `go generate`
// runs it in internal/spec.
package main

import (
	"log"
	"os"

	"github.com/infobloxopen/cq-source-s3/internal/spec"
)

func main() {
	b, err := spec.GenerateJSONSchema()
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("schema.json", b, 0o644); err != nil {
		log.Fatal(err)
	}
}
