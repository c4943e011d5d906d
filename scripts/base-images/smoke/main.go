// Command smoke checks a pair of substitute base images (scripts/base-images.sh smoke_test):
// cross-compiled on the builder image and run on the runtime image, it prints
// "ok <os>/<arch> uid=<uid> certs=<n>" when the system CA pool loads and /tmp is writable, and
// exits 1 otherwise.
package main

import (
	"crypto/x509"
	"fmt"
	"os"
	"runtime"
)

func main() {
	pool, err := x509.SystemCertPool()
	if err != nil {
		fmt.Println("cert pool:", err)
		os.Exit(1)
	}
	f, err := os.CreateTemp("", "smoke")
	if err != nil {
		fmt.Println("tmp:", err)
		os.Exit(1)
	}
	_ = os.Remove(f.Name())
	fmt.Printf("ok %s/%s uid=%d certs=%d\n", runtime.GOOS, runtime.GOARCH, os.Getuid(), len(pool.Subjects()))
}
