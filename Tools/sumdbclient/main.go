// Command sumdbclient checks a checksum database with x/mod's own client code
// (golang.org/x/mod/sumdb, as Debian ships it): the lookups the go command makes, each
// proved against the signed tree head through hash tiles, and then every record of the
// log read from the data tiles and proved the same way, with the tree hash recomputed
// from the tiles. It is the other side of Warren's differential test.
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o sumdbclient ./Tools/sumdbclient
//	sumdbclient -url URL -key NAME+HASH+KEY MODULE@VERSION...
//
// Prints each lookup's go.sum lines, then "log ok N records". A lookup the client
// refuses prints x/mod's own words and exits 1; a security error found while proving
// the log (or reported by the client) prints "SECURITY ERROR: …" and exits 3.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type ops struct {
	base, key string
	mu        sync.Mutex
	config    map[string][]byte
}

func (o *ops) ReadRemote(path string) ([]byte, error) {
	resp, err := http.Get(o.base + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

func (o *ops) ReadConfig(file string) ([]byte, error) {
	if file == "key" {
		return []byte(o.key), nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.config[file], nil
}

func (o *ops) WriteConfig(file string, old, new []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !bytes.Equal(o.config[file], old) {
		return sumdb.ErrWriteConflict
	}
	o.config[file] = new
	return nil
}

func (o *ops) ReadCache(file string) ([]byte, error) { return nil, os.ErrNotExist }
func (o *ops) WriteCache(file string, data []byte)    {}
func (o *ops) Log(msg string)                         { fmt.Fprintln(os.Stderr, msg) }
func (o *ops) SecurityError(msg string) {
	fmt.Println("SECURITY ERROR: " + msg)
	os.Exit(3)
}

type tiles struct{ o *ops }

func (t tiles) Height() int { return 8 }
func (t tiles) ReadTiles(list []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(list))
	for i, tile := range list {
		data, err := t.o.ReadRemote("/" + tile.Path())
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}
func (t tiles) SaveTiles([]tlog.Tile, [][]byte) {}

func fail(format string, args ...interface{}) {
	fmt.Printf(format+"\n", args...)
	os.Exit(1)
}

func main() {
	url := flag.String("url", "", "the database's base URL")
	key := flag.String("key", "", "its verifier key")
	flag.Parse()
	o := &ops{base: strings.TrimSuffix(*url, "/"), key: *key, config: map[string][]byte{}}
	client := sumdb.NewClient(o)
	for _, arg := range flag.Args() {
		i := strings.LastIndex(arg, "@")
		lines, err := client.Lookup(arg[:i], arg[i+1:])
		if err != nil {
			fail("lookup %s: %v", arg, err)
		}
		for _, line := range lines {
			fmt.Println(line)
		}
	}

	verifier, err := note.NewVerifier(*key)
	if err != nil {
		fail("key: %v", err)
	}
	latest, err := o.ReadRemote("/latest")
	if err != nil {
		fail("%v", err)
	}
	signed, err := note.Open(latest, note.VerifierList(verifier))
	if err != nil {
		fmt.Println("SECURITY ERROR: latest: " + err.Error())
		os.Exit(3)
	}
	tree, err := tlog.ParseTree([]byte(signed.Text))
	if err != nil {
		fail("latest: %v", err)
	}
	reader := tlog.TileHashReader(tree, tiles{o})
	for start := int64(0); start < tree.N; start += 256 {
		width := tree.N - start
		if width > 256 {
			width = 256
		}
		tile := tlog.Tile{H: 8, L: -1, N: start / 256, W: int(width)}
		data, err := o.ReadRemote("/" + tile.Path())
		if err != nil {
			fail("%v", err)
		}
		for i := start; i < start+width; i++ {
			id, text, rest, err := tlog.ParseRecord(data)
			if err != nil || id != i {
				fail("data tile %s: record %d: id %d, %v", tile.Path(), i, id, err)
			}
			data = rest
			hashes, err := reader.ReadHashes([]int64{tlog.StoredHashIndex(0, id)})
			if err != nil {
				fmt.Printf("SECURITY ERROR: record %d: %v\n", id, err)
				os.Exit(3)
			}
			if hashes[0] != tlog.RecordHash(text) {
				fmt.Printf("SECURITY ERROR: record %d is not the record the tree holds\n", id)
				os.Exit(3)
			}
		}
		if len(data) != 0 {
			fail("data tile %s: %d bytes after the last record", tile.Path(), len(data))
		}
	}
	if h, err := tlog.TreeHash(tree.N, reader); err != nil || h != tree.Hash {
		fmt.Printf("SECURITY ERROR: tree hash from tiles: %v %v\n", h, err)
		os.Exit(3)
	}
	fmt.Printf("log ok %d records\n", tree.N)
}
