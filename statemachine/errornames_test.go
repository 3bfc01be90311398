package statemachine

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
)

var errorEquals = regexp.MustCompile(`"ErrorEquals"\s*:\s*\[([^\]]*)\]`)
var quoted = regexp.MustCompile(`"([^"]+)"`)

// aslErrorNames lists every error name the definitions' Retry and Catch
// match, without those AWS itself defines (States.*, Lambda.*, ...).
func aslErrorNames(t *testing.T) map[string][]string {
	t.Helper()
	files, err := filepath.Glob("*.asl.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	names := map[string][]string{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range errorEquals.FindAllStringSubmatch(string(raw), -1) {
			for _, q := range quoted.FindAllStringSubmatch(m[1], -1) {
				name := q[1]
				if strings.Contains(name, ".") { // States.ALL, Lambda.Unknown, Sandbox.Timedout ...
					continue
				}
				names[name] = append(names[name], f)
			}
		}
	}
	return names
}

// workflowErrorTypes are the type names in shared/workflow with an Error
// method: aws-lambda-go reports a returned error's type name as errorType.
func workflowErrorTypes(t *testing.T) map[string]bool {
	t.Helper()
	types := map[string]bool{}
	// shared/importer: the import workflow's steps.
	for _, dir := range []string{"workflow", "importer"} {
		pkgs, err := parser.ParseDir(token.NewFileSet(), filepath.Join("..", "shared", dir), func(fi os.FileInfo) bool {
			return !strings.HasSuffix(fi.Name(), "_test.go")
		}, 0)
		require.NoError(t, err)
		collectErrorTypes(pkgs, types)
	}
	return types
}

func collectErrorTypes(pkgs map[string]*ast.Package, types map[string]bool) {
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				fn, ok := d.(*ast.FuncDecl)
				if !ok || fn.Recv == nil || fn.Name.Name != "Error" || len(fn.Recv.List) != 1 {
					continue
				}
				recv := fn.Recv.List[0].Type
				if star, ok := recv.(*ast.StarExpr); ok {
					recv = star.X
				}
				if id, ok := recv.(*ast.Ident); ok {
					types[id.Name] = true
				}
			}
		}
	}
}

// The name an ASL Retry or Catch matches is written twice: once in the ASL,
// once as a Go type name (a Lambda's returned error) or as the error a task
// token is failed with (migration's *ErrorType constants). A typo on either
// side would make the Catch silently never match; this checks the pair.
func TestASLErrorNamesMatchGoNames(t *testing.T) {
	known := workflowErrorTypes(t)
	require.Contains(t, known, "StoreUnavailable", "the parse found the workflow's error types")
	for _, c := range []string{migration.BatchClosedErrorType, migration.TargetTakenErrorType} {
		known[c] = true
	}
	names := aslErrorNames(t)
	require.Contains(t, names, "StepFailed", "the ASL scan found the definitions' error names")
	var listed []string
	for name, files := range names {
		listed = append(listed, name)
		assert.True(t, known[name], "%s (in %v) is neither an error type in shared/workflow nor a migration.*ErrorType constant", name, files)
	}
	sort.Strings(listed)
	t.Logf("ASL error names checked: %v", listed)
}
