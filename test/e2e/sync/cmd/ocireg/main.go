// Command ocireg serves an in-memory OCI registry that implements the OCI 1.1 referrers API
// (go-containerregistry's pkg/registry), over TLS on 127.0.0.1, until SIGTERM or SIGINT:
//
//	ocireg -cert registry.crt -key registry.key -addr-file FILE [-addr 127.0.0.1:0] [-copy SRC -to REPO]
//
// The release rehearsal signs and verifies once against it: Artifact Registry serves the
// referrers API, so cosign stores the evidence as referrer manifests there, while the rehearsal's
// own registry (like GHCR) has none and gets cosign's `sha256-<digest>` tag fallback. With -copy,
// it first copies the image index SRC (`<registry>/<repo>@sha256:…`, trusted through the system's
// CA set, e.g. SSL_CERT_DIR) into REPO of itself, byte for byte (the same digest), and nothing
// else: no signature or attestation comes along. It writes its host:port to -addr-file once it
// accepts connections and holds the copy.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// copyIndex copies the index src into repo of the registry at host, keeping its digest.
func copyIndex(src, host, repo string, rootCAs *tls.Config) error {
	ref, err := name.NewDigest(src)
	if err != nil {
		return err
	}
	transport := &http.Transport{TLSClientConfig: rootCAs}
	idx, err := remote.Index(ref, remote.WithTransport(transport))
	if err != nil {
		return err
	}
	dst, err := name.NewDigest(host + "/" + repo + "@" + ref.DigestStr())
	if err != nil {
		return err
	}
	return remote.WriteIndex(dst, idx, remote.WithTransport(transport))
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	certFile := flag.String("cert", "", "TLS certificate (required)")
	keyFile := flag.String("key", "", "TLS key (required)")
	addrFile := flag.String("addr-file", "", "file to write host:port to once listening (required)")
	copySrc := flag.String("copy", "", "an image index <registry>/<repo>@sha256:… to copy into -to first")
	copyTo := flag.String("to", "", "the repository of this registry -copy writes to")
	flag.Parse()
	if *certFile == "" || *keyFile == "" || *addrFile == "" {
		flag.Usage()
		os.Exit(2)
	}
	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		log.Fatalf("TLS: %v", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("listen: %v", err)
	}
	if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		log.Fatalf("refusing to serve on %s: loopback only", ip)
	}
	srv := &http.Server{
		Handler:           registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(os.Stderr, "", log.LstdFlags))),
		ReadHeaderTimeout: 10 * time.Second,
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	tlsLn := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(tlsLn) }()
	if *copySrc != "" {
		// The system roots (SSL_CERT_DIR) trust both registries: the rehearsal's CA signed both certificates.
		if err := copyIndex(*copySrc, ln.Addr().String(), *copyTo, &tls.Config{MinVersion: tls.VersionTLS12}); err != nil {
			log.Fatalf("copy %s: %v", *copySrc, err)
		}
	}
	if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := <-served; err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
