// Command hub serves the stand-in CloudQuery Hub API (internal/hubstandin) on 127.0.0.1 until it
// is sent SIGTERM or SIGINT:
//
//	hub -dir DIR -addr-file FILE -plugin infobloxopen/source/s3 [-api-key KEY] [-addr 127.0.0.1:0]
//
// It writes its base URL (http://127.0.0.1:<port>) to -addr-file once it accepts connections; the
// scripts wait for that file and export it as CLOUDQUERY_API_URL.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/infobloxopen/cq-source-s3/test/e2e/sync/internal/hubstandin"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var plugins list
	dir := flag.String("dir", "", "directory for the uploaded assets and requests.jsonl (required)")
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	addrFile := flag.String("addr-file", "", "file to write the base URL to once listening (required)")
	apiKey := flag.String("api-key", "", "the only token accepted for writes (any non-empty token when unset)")
	flag.Var(&plugins, "plugin", "a plugin that exists before any publish, <team>/<kind>/<name> (repeatable)")
	flag.Parse()
	if *dir == "" || *addrFile == "" {
		flag.Usage()
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("listen: %v", err)
	}
	if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		log.Fatalf("refusing to serve on %s: loopback only", ip)
	}
	base := "http://" + ln.Addr().String()
	srv, err := hubstandin.New(hubstandin.Options{Dir: *dir, BaseURL: base, Plugins: plugins, APIKey: *apiKey})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	httpSrv := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = httpSrv.Shutdown(shutdown)
	}()
	if err := os.WriteFile(*addrFile, []byte(base+"\n"), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "stand-in Hub on %s (plugins %s)\n", base, plugins.String())
	if err := httpSrv.Serve(ln); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
