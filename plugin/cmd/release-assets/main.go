// Command release-assets writes the GitHub Release's zips and checksums.txt from the Hub package
// the SDK's `package` command wrote (see internal/releaseassets). The Dockerfile's `package`
// stage runs it:
//
//	release-assets <hub package dir> <output dir>
package main

import (
	"fmt"
	"os"

	"github.com/infobloxopen/cq-source-s3/internal/releaseassets"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: release-assets <hub package dir> <output dir>")
		os.Exit(2)
	}
	if err := releaseassets.Write(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "release-assets:", err)
		os.Exit(1)
	}
}
