package bolt

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/storage"
)

// crashDirEnv, when set, turns TestCrashChild into the writer process of
// TestCrashKeepsAcknowledgedWrites; its value is the database directory.
const crashDirEnv = "WARD_BOLT_CRASH_CHILD_DIR"

const (
	crashAcks      = 300    // acknowledgements the parent waits for
	crashMaxWrites = 100000 // bound on the child's loop
)

// crashKey and crashValue give write i a deterministic key and value whose
// size varies, so pages split and the file grows while the child is killed.
func crashKey(i int) string { return fmt.Sprintf("crash/%03d/%06d", i%50, i) }

func crashValue(i int) []byte {
	return bytes.Repeat([]byte(strconv.Itoa(i)+","), 1+i%97)
}

// TestCrashKeepsAcknowledgedWrites runs a child process that writes in a
// loop and prints a line after each write returns, kills it with SIGKILL
// mid-stream, and checks that every acknowledged write is in the reopened
// database. It exercises process crashes (the kernel keeps what bbolt wrote),
// not power loss, which would need a fault-injecting filesystem.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	if os.Getenv(crashDirEnv) != "" {
		t.Skip("running as the crash child")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	// Read acknowledgements until there are enough, then kill the child and
	// keep reading: lines already in the pipe were acknowledged too.
	puts := map[int]bool{} // write index → acknowledged
	deletes := map[int]bool{}
	acks, killed := 0, false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		op, n, ok := parseAck(sc.Text())
		if !ok {
			continue
		}
		switch op {
		case "put":
			puts[n] = true
		case "del":
			deletes[n] = true
		}
		acks++
		if acks >= crashAcks && !killed {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatalf("kill child: %v", err)
			}
			killed = true
		}
	}
	waitErr := cmd.Wait()
	if !killed {
		if ctx.Err() != nil {
			t.Fatalf("child gave %d of %d acknowledgements before the timeout", acks, crashAcks)
		}
		t.Fatalf("child ended after %d acknowledgements without being killed: %v\nstderr:\n%s", acks, waitErr, stderr.String())
	}

	b, err := Open(dir, &Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("reopen after crash: %v", err)
	}
	defer b.Close()
	checked := 0
	for i := range puts {
		v, err := b.Get(t.Context(), crashKey(i))
		if deletes[i] {
			if !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("acknowledged delete of %q lost: Get error = %v", crashKey(i), err)
			}
			continue
		}
		if err != nil {
			t.Errorf("acknowledged put of %q lost: %v", crashKey(i), err)
			continue
		}
		if !bytes.Equal(v, crashValue(i)) {
			t.Errorf("value of %q after crash has %d bytes, want the %d acknowledged", crashKey(i), len(v), len(crashValue(i)))
		}
		checked++
	}
	if checked < crashAcks/2 {
		t.Errorf("checked only %d surviving keys, want at least %d", checked, crashAcks/2)
	}
	t.Logf("%d acknowledgements, %d keys checked after SIGKILL", acks, checked)
}

// parseAck parses a child line "put N" or "del N".
func parseAck(line string) (op string, n int, ok bool) {
	op, num, found := strings.Cut(line, " ")
	if !found || (op != "put" && op != "del") {
		return "", 0, false
	}
	n, err := strconv.Atoi(num)
	return op, n, err == nil
}

// TestCrashChild is the writer process; it does nothing unless started by
// TestCrashKeepsAcknowledgedWrites. Every fifth write it also deletes an
// earlier key, acknowledging each operation on stdout after it returns.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("only runs as the child of TestCrashKeepsAcknowledgedWrites")
	}
	ctx := context.Background()
	b, err := Open(dir, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := range crashMaxWrites {
		if err := b.Put(ctx, crashKey(i), crashValue(i)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stdout, "put %d\n", i)
		if i%5 == 4 {
			if err := b.Delete(ctx, crashKey(i-2)); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			fmt.Fprintf(os.Stdout, "del %d\n", i-2)
		}
	}
	b.Close()
}
