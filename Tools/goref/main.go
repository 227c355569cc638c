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
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/sumdb/tlog"
	modzip "golang.org/x/mod/zip"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: goref zipdir|hashzip|hashmod|checkzip|names ARGS")
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "tlog": // N → reference values of a log of N records "record i", one per line
		need(args, 1)
		n, err := strconv.ParseInt(args[0], 10, 64)
		check(err)
		tlogReference(n)
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

// tlogReference builds a log of n records with x/mod's tlog and prints, one per line:
//
//	tree SIZE HASH                      for every size 1..n
//	index LEVEL N STOREDINDEX           for the stored hashes of the tree
//	record SIZE I HASH... (the proof)   for some records
//	treeproof SIZE OLD HASH...          for some older sizes
//	tile H L N W PATH                   tile paths
func tlogReference(n int64) {
	var stored []tlog.Hash
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			out[i] = stored[x]
		}
		return out, nil
	})
	for i := int64(0); i < n; i++ {
		hashes, err := tlog.StoredHashes(i, []byte(fmt.Sprintf("record %d", i)), reader)
		check(err)
		stored = append(stored, hashes...)
		th, err := tlog.TreeHash(i+1, reader)
		check(err)
		fmt.Printf("tree %d %s\n", i+1, th)
	}
	for x := int64(0); x < int64(len(stored)); x++ {
		level, k := tlog.SplitStoredHashIndex(x)
		fmt.Printf("index %d %d %d\n", level, k, tlog.StoredHashIndex(level, k))
	}
	for size := int64(1); size <= n; size += 1 + size/7 {
		for i := int64(0); i < size; i += 1 + size/5 {
			p, err := tlog.ProveRecord(size, i, reader)
			check(err)
			printProof("record", size, i, p)
		}
		for old := int64(1); old <= size; old += 1 + old/3 {
			p, err := tlog.ProveTree(size, old, reader)
			check(err)
			printProof("treeproof", size, old, p)
		}
	}
	// Tiles of height 2 (several levels even for a small log), for size n.
	for _, t := range tlog.NewTiles(2, 0, n) {
		data, err := tlog.ReadTileData(t, reader)
		check(err)
		fmt.Printf("tiledata %s %s\n", t.Path(), base64.StdEncoding.EncodeToString(data))
	}
	// The tiles x/mod's tile hash reader asks for (in its order) to read one record's
	// hash from trees of several sizes, with their data.
	for size := int64(1); size <= n; size += 1 + size/3 {
		for i := int64(0); i < size; i += 1 + size/4 {
			rec := &recordingTiles{stored: reader}
			_, err := tlog.TileHashReader(tlog.Tree{N: size, Hash: mustTreeHash(size, reader)}, rec).ReadHashes([]int64{tlog.StoredHashIndex(0, i)})
			check(err)
			fmt.Printf("tileread %d %d", size, i)
			for _, t := range rec.asked {
				fmt.Printf(" %s", t.Path())
			}
			fmt.Println()
		}
	}
	for _, t := range []tlog.Tile{{H: 8, L: 0, N: 0, W: 256}, {H: 8, L: 1, N: 1234067, W: 256}, {H: 8, L: -1, N: 5, W: 3}, {H: 8, L: 2, N: 1000, W: 17}, {H: 10, L: 0, N: 999, W: 1024}} {
		fmt.Printf("tile %d %d %d %d %s\n", t.H, t.L, t.N, t.W, t.Path())
	}
}

func printProof(kind string, size, n int64, proof []tlog.Hash) {
	fmt.Printf("%s %d %d", kind, size, n)
	for _, h := range proof {
		fmt.Printf(" %s", h)
	}
	fmt.Println()
}

// recordingTiles serves height-2 tiles from the stored hashes and keeps what was asked.
type recordingTiles struct {
	stored tlog.HashReader
	asked  []tlog.Tile
}

func (r *recordingTiles) Height() int { return 2 }

func (r *recordingTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	r.asked = append(r.asked, tiles...)
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := tlog.ReadTileData(t, r.stored)
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (r *recordingTiles) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

func mustTreeHash(n int64, r tlog.HashReader) tlog.Hash {
	h, err := tlog.TreeHash(n, r)
	check(err)
	return h
}
