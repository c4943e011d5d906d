// Command cq-source-s3 is a CloudQuery source plugin that syncs Parquet objects from S3.
package main

import (
	"context"
	"log"

	"github.com/cloudquery/plugin-sdk/v4/serve"

	"github.com/infobloxopen/cq-source-s3/internal/cqplugin"
	"github.com/infobloxopen/cq-source-s3/plugin"
)

func main() {
	if err := serve.Plugin(cqplugin.New(plugin.Version)).Serve(context.Background()); err != nil {
		log.Fatal(err)
	}
}
