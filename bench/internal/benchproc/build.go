package benchproc

// A server binary of another revision, for before/after figures.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// BuildServerAt builds ./server as it is at the git revision ref (main,
// a commit) of this checkout's repository: the tree is exported with git
// archive into a temporary directory and built there with the module
// cache this checkout uses. cleanup removes the directory.
func BuildServerAt(ctx context.Context, ref string) (bin string, cleanup func(), err error) {
	root, err := RepoRoot()
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "oim-bench-ref-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	src := filepath.Join(dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		cleanup()
		return "", nil, err
	}
	archive := exec.CommandContext(ctx, "sh", "-c", `git -C "$1" archive --format=tar "$2" | tar -x -C "$3"`, "sh", root, ref, src)
	if out, err := archive.CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("export %s: %w\n%s", ref, err, out)
	}
	bin = filepath.Join(dir, "odoo-iot-mqtt-"+filepath.Base(ref))
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./server")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("build %s: %w\n%s", ref, err, out)
	}
	return bin, cleanup, nil
}
