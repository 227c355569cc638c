// Command sumdbtest is a checksum database for Warren's tests, on loopback: x/mod's own
// sumdb server (golang.org/x/mod/sumdb, as Debian ships it) over a GOPROXY directory
// tree, with a fresh signing key. Records are added as they are looked up, so each
// lookup of a new module grows the log, as on sum.golang.org.
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o sumdbtest ./Tools/sumdbtest
//	sumdbtest -dir TREE -name NAME   → prints "vkey KEY" and "listening HOST:PORT"
//
// POST /grow?n=N appends N made-up records. POST /fork switches to a second log whose records differ (a forked database), so that
// tests can check that a client refuses it. POST /break?what=MODE makes answers wrong in
// one way (sig: bad signatures; note: malformed tree heads; short: tiles one byte short;
// hash: a flipped bit in every tile; "" honest again). -filler N starts the log with N
// records of made-up modules, so that it has full tiles. Every request path is printed
// on stdout as "GET PATH", so tests can see which module names reached the database.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"path/filepath"
	"strconv"
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
	filler := flag.Int("filler", 0, "made-up records to start the log with")
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
	gosumOrFiller := func(path, vers string) ([]byte, error) {
		if strings.HasPrefix(path, "filler.example/") {
			return []byte(fmt.Sprintf("%s %s h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", path, vers)), nil
		}
		return gosum(path, vers)
	}
	honestOps := sumdb.NewTestServer(skey, gosumOrFiller)
	for i := 0; i < *filler; i++ {
		_, err = honestOps.Lookup(context.Background(), module.Version{Path: fmt.Sprintf("filler.example/m%d", i), Version: "v1.0.0"})
		check(err)
	}
	honest := sumdb.NewServer(honestOps)
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
	var breakMode atomic.Value
	breakMode.Store("")
	mux := http.NewServeMux()
	mux.HandleFunc("/fork", func(w http.ResponseWriter, r *http.Request) { isForked.Store(true) })
	mux.HandleFunc("/break", func(w http.ResponseWriter, r *http.Request) { breakMode.Store(r.URL.Query().Get("what")) })
	// POST /grow?n=N appends N made-up records, as other modules' releases grow the real log.
	var grown atomic.Int64
	mux.HandleFunc("/grow", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		for i := 0; i < n; i++ {
			k := grown.Add(1)
			_, err := honestOps.Lookup(context.Background(), module.Version{Path: fmt.Sprintf("filler.example/g%d", k), Version: "v1.0.0"})
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("GET %s\n", r.URL.Path)
		var db http.Handler = honest
		if isForked.Load() {
			db = forked
		}
		rec := httptest.NewRecorder()
		db.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if rec.Code == http.StatusOK {
			body = spoil(r.URL.Path, body, breakMode.Load().(string))
		}
		for k, v := range rec.Header() {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(rec.Code)
		w.Write(body)
	})
	ln, err := net.Listen("tcp", *listen)
	check(err)
	fmt.Printf("vkey %s\nlistening %s\n", vkey, ln.Addr())
	check(http.Serve(ln, mux))
}

// spoil makes an answer wrong in the way the test asked for.
func spoil(path string, body []byte, mode string) []byte {
	isTile := strings.HasPrefix(path, "/tile/")
	out := append([]byte(nil), body...)
	switch {
	case mode == "sig" && !isTile:
		// The signature is the last base64 field ("…X=\n"): change a data bit of X.
		i := len(out) - 3
		if out[i] == 'A' {
			out[i] = 'Q'
		} else {
			out[i] = 'A'
		}
	case mode == "note" && !isTile:
		if j := strings.Index(string(out), "go.sum database tree\n"); j >= 0 {
			out = append(out[:j], []byte("go.sum database tree\nnot a number\n")...)
		}
	case mode == "short" && isTile && len(out) > 0:
		out = out[:len(out)-1]
	case mode == "hash" && isTile && len(out) > 0:
		out[len(out)/2] ^= 1
	}
	return out
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "sumdbtest:", err)
		os.Exit(1)
	}
}
