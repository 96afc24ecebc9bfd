package web

import (
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"
)

// importRe finds the specifiers of static imports and re-exports
// ("import '...'", "import x from '...'", "export { x } from '...'").
var importRe = regexp.MustCompile(`(?m)^\s*(?:import\s+|(?:import|export)\s+[\w*{}\s,$]+?\s+from\s+)['"]([^'"]+)['"]`)

// jsFiles returns the embedded scripts by path under static/.
func jsFiles(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") {
			return err
		}
		body, err := staticFS.ReadFile(p)
		files[strings.TrimPrefix(p, "static/")] = string(body)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestModuleImports checks that every relative import of every script
// names an embedded file, so a renamed or misspelled module fails here
// rather than as a blank page in the browser.
func TestModuleImports(t *testing.T) {
	t.Parallel()
	files := jsFiles(t)
	if _, ok := files["views/index.js"]; !ok {
		t.Fatal("views/index.js is not embedded")
	}
	for name, body := range files {
		for _, m := range importRe.FindAllStringSubmatch(body, -1) {
			spec := m[1]
			var target string
			switch {
			case strings.HasPrefix(spec, "./"), strings.HasPrefix(spec, "../"):
				target = path.Join(path.Dir(name), spec)
			case strings.HasPrefix(spec, "/web/static/"):
				target = strings.TrimPrefix(spec, "/web/static/")
			default:
				t.Errorf("%s imports %q: only relative or /web/static/ imports work without a build step", name, spec)
				continue
			}
			if _, ok := files[target]; !ok {
				t.Errorf("%s imports %q: no embedded static/%s", name, spec, target)
			}
		}
	}
}

// TestGenericViewsNameNoModel keeps model and bus channel names in the
// view declarations (views/*.js) and channels.js: the generic views and
// panels read them from the declarations.
func TestGenericViewsNameNoModel(t *testing.T) {
	t.Parallel()
	files := jsFiles(t)
	// Every name channels.js defines (channels and notification types).
	names := []string{"mqtt.", "iot."}
	for _, m := range regexp.MustCompile(`'([a-z0-9_]+)'`).FindAllStringSubmatch(files["channels.js"], -1) {
		names = append(names, m[1])
	}
	if len(names) < 5 {
		t.Fatalf("channels.js defines no channel names: %q", names)
	}
	for name, body := range files {
		if strings.HasPrefix(name, "views/") || name == "channels.js" {
			continue
		}
		for _, n := range names {
			if strings.Contains(body, n) {
				t.Errorf("%s names %q: declare it in the model's views/ file (channels in channels.js)", name, n)
			}
		}
	}
}
