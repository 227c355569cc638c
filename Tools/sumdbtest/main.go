// Command sumdbtest is a checksum database for Warren's tests, on loopback: x/mod's own
// sumdb server (golang.org/x/mod/sumdb, as Debian ships it) over a GOPROXY directory
// tree, with a fresh signing key. Records are added as they are looked up, so each
// lookup of a new module grows the log, as on sum.golang.org.
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o sumdbtest ./Tools/sumdbtest
//	sumdbtest -dir TREE -name NAME   → prints "vkey KEY" and "listening HOST:PORT"
//
// POST /fork switches to a second log whose records differ (a forked database), so that
// tests can check that a client refuses it.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/sumdb/note"
)

func main() {
	dir := flag.String("dir", "", "GOPROXY directory tree")
	name := flag.String("name", "sum.test", "database name")
	listen := flag.String("listen", "127.0.0.1:0", "address")
	flag.Parse()

	skey, vkey, err := note.GenerateKey(rand.Reader, *name)
	check(err)

	gosum := func(path, vers string) ([]byte, error) {
		esc, err := module.EscapePath(path)
		if err != nil {
			return nil, err
		}
		base := filepath.Join(*dir, esc, "@v", vers)
		zipHash, err := dirhash.HashZip(base+".zip", dirhash.Hash1)
		if err != nil {
			return nil, err
		}
		modHash, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) { return os.Open(base + ".mod") })
		if err != nil {
			return nil, err
		}
		return []byte(fmt.Sprintf("%s %s %s\n%s %s/go.mod %s\n", path, vers, zipHash, path, vers, modHash)), nil
	}
	honest := sumdb.NewServer(sumdb.NewTestServer(skey, gosum))
	// The fork starts with records the honest log never had, so it is ahead of it.
	forkOps := sumdb.NewTestServer(skey, func(path, vers string) ([]byte, error) {
		if path == "fork.example/x" {
			return []byte(fmt.Sprintf("fork.example/x %s h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", vers)), nil
		}
		return gosum(path, vers)
	})
	for i := 0; i < 20; i++ {
		_, err = forkOps.Lookup(context.Background(), module.Version{Path: "fork.example/x", Version: fmt.Sprintf("v1.0.%d", i)})
		check(err)
	}
	forked := sumdb.NewServer(forkOps)

	var isForked atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("/fork", func(w http.ResponseWriter, r *http.Request) { isForked.Store(true) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if isForked.Load() {
			forked.ServeHTTP(w, r)
		} else {
			honest.ServeHTTP(w, r)
		}
	})
	ln, err := net.Listen("tcp", *listen)
	check(err)
	fmt.Printf("vkey %s\nlistening %s\n", vkey, ln.Addr())
	check(http.Serve(ln, mux))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "sumdbtest:", err)
		os.Exit(1)
	}
}
