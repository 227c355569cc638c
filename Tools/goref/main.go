// Command goref is Warren's yardstick: it runs golang.org/x/mod (the code inside the go
// command) on the same inputs as Warren's tests, so that every zip and hash Warren makes
// can be compared with the go command's own.
//
// Built by the tests and benchmarks in GOPATH mode against Debian's golang-golang-x-mod-dev:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o goref ./Tools/goref
package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	modzip "golang.org/x/mod/zip"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: goref zipdir|hashzip|hashmod|checkzip|names ARGS")
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "zipdir": // MODULE VERSION DIR OUT.zip → prints the zip's h1: hash
		need(args, 4)
		out, err := os.Create(args[3])
		check(err)
		check(modzip.CreateFromDir(out, module.Version{Path: args[0], Version: args[1]}, args[2]))
		check(out.Close())
		h, err := dirhash.HashZip(args[3], dirhash.Hash1)
		check(err)
		fmt.Println(h)
	case "hashzip": // FILE.zip
		need(args, 1)
		h, err := dirhash.HashZip(args[0], dirhash.Hash1)
		check(err)
		fmt.Println(h)
	case "hashmod": // FILE
		need(args, 1)
		data, err := os.ReadFile(args[0])
		check(err)
		h, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		})
		check(err)
		fmt.Println(h)
	case "checkzip": // MODULE VERSION FILE.zip → "ok" or the reasons, exit 1
		need(args, 3)
		cf, err := modzip.CheckZip(module.Version{Path: args[0], Version: args[1]}, args[2])
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Printf("ok %d\n", len(cf.Valid))
	case "names": // FILE.zip → sorted entry names
		need(args, 1)
		z, err := zip.OpenReader(args[0])
		check(err)
		var names []string
		for _, f := range z.File {
			names = append(names, f.Name)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Println(n)
		}
	case "bench": // MODULE VERSION DIR N → median milliseconds of CreateFromDir and HashZip
		need(args, 4)
		n, err := strconv.Atoi(args[3])
		check(err)
		benchmark(args[0], args[1], args[2], n)
	default:
		fail("unknown command " + os.Args[1])
	}
}

// benchmark times zip creation (into a file, as a proxy or `go mod download` does) and
// h1: hashing of that zip, each n times, and prints the medians in milliseconds.
func benchmark(mod, version, dir string, n int) {
	tmp, err := os.MkdirTemp("", "goref-bench")
	check(err)
	defer os.RemoveAll(tmp)
	zipPath := filepath.Join(tmp, "m.zip")
	var create, hash []float64
	for i := 0; i <= n; i++ {
		start := time.Now()
		out, err := os.Create(zipPath)
		check(err)
		check(modzip.CreateFromDir(out, module.Version{Path: mod, Version: version}, dir))
		check(out.Close())
		mid := time.Now()
		_, err = dirhash.HashZip(zipPath, dirhash.Hash1)
		check(err)
		end := time.Now()
		if i > 0 { // the first round warms the file cache
			create = append(create, float64(mid.Sub(start).Microseconds())/1000)
			hash = append(hash, float64(end.Sub(mid).Microseconds())/1000)
		}
	}
	fmt.Printf("%.2f %.2f\n", median(create), median(hash))
}

func median(xs []float64) float64 {
	sort.Float64s(xs)
	return xs[len(xs)/2]
}

func need(args []string, n int) {
	if len(args) != n {
		fail(fmt.Sprintf("want %d arguments, got %d", n, len(args)))
	}
}

func check(err error) {
	if err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "goref:", msg)
	os.Exit(2)
}
