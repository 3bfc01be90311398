package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConsoleServedAtRootWithoutToken(t *testing.T) {
	a := &API{}
	res, err := a.Handle(context.Background(), events.APIGatewayV2HTTPRequest{RouteKey: "GET /", RawPath: "/"})
	require.NoError(t, err)
	assert.Equal(t, 200, res.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", res.Headers["content-type"])
	assert.Contains(t, res.Headers["content-security-policy"], "script-src 'sha256-")
	assert.Contains(t, res.Body, `<main id="main"`)
	assert.NotContains(t, res.Body, "/*JS*/", "the script is inlined")
	assert.Less(t, len(res.Body), 100*1024, "the whole page stays under 100 KB even uncompressed")

	gz, err := a.Handle(context.Background(), events.APIGatewayV2HTTPRequest{RouteKey: "GET /", RawPath: "/",
		Headers: map[string]string{"accept-encoding": "gzip, deflate, br"}})
	require.NoError(t, err)
	assert.Equal(t, "gzip", gz.Headers["content-encoding"])
	require.True(t, gz.IsBase64Encoded)
	raw, err := base64.StdEncoding.DecodeString(gz.Body)
	require.NoError(t, err)
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	require.NoError(t, err)
	plain, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.Equal(t, res.Body, string(plain))
	t.Logf("console page: %d bytes, %d gzipped", len(res.Body), len(raw))
}

type consoleTexts struct {
	En     map[string]string            `json:"en"`
	Zh     map[string]string            `json:"zh"`
	Errors map[string]map[string]string `json:"errors"`
}

func loadTexts(t *testing.T) consoleTexts {
	b, err := consoleFiles.ReadFile("console/texts.json")
	require.NoError(t, err)
	var tx consoleTexts
	require.NoError(t, json.Unmarshal(b, &tx))
	return tx
}

// goErrorCodes returns every error code the Go code defines: the constants of
// type Code in shared/migration and shared/httpapi.
func goErrorCodes(t *testing.T) []string {
	var codes []string
	for _, dir := range []string{"../migration", "."} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		require.NoError(t, err)
		for _, f := range files {
			if matched, _ := filepath.Match("*_test.go", filepath.Base(f)); matched {
				continue
			}
			file, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
			require.NoError(t, err)
			ast.Inspect(file, func(n ast.Node) bool {
				vs, ok := n.(*ast.ValueSpec)
				if !ok || vs.Type == nil || len(vs.Values) != len(vs.Names) {
					return true
				}
				typ := ""
				switch x := vs.Type.(type) {
				case *ast.Ident:
					typ = x.Name
				case *ast.SelectorExpr:
					typ = x.Sel.Name
				}
				if typ != "Code" {
					return true
				}
				for _, v := range vs.Values {
					if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						s, _ := strconv.Unquote(lit.Value)
						codes = append(codes, s)
					}
				}
				return true
			})
		}
	}
	return codes
}

func TestConsoleHasEveryErrorCodeInBothLanguages(t *testing.T) {
	tx := loadTexts(t)
	codes := goErrorCodes(t)
	require.Contains(t, codes, "AGREEMENT_REQUIRED", "the parser found the domain's codes")
	require.Contains(t, codes, "CONFIRMATION_REQUIRED", "the parser found the HTTP edge's codes")
	// Codes other layers produce: the idempotency store, an expired batch's
	// error, the local API Gateway stand-in, and the console's own.
	codes = append(codes, "IDEMPOTENCY_KEY_IN_USE", "TARGET_NOT_ELIGIBLE", "QUOTA_EXCEEDED", "EXPIRED",
		"STARTING", "BAD_REQUEST", "NETWORK", "UNKNOWN")
	for _, c := range codes {
		m := tx.Errors[c]
		assert.NotEmpty(t, m["en"], "error %s has no English message", c)
		assert.NotEmpty(t, m["zh"], "error %s has no Chinese message", c)
	}
}

func TestConsoleTextsInBothLanguages(t *testing.T) {
	tx := loadTexts(t)
	for k, v := range tx.En {
		assert.NotEmpty(t, tx.Zh[k], "text %q has no Chinese", k)
		assert.NotEmpty(t, v, k)
	}
	for k := range tx.Zh {
		_, ok := tx.En[k]
		assert.True(t, ok, "text %q has no English", k)
	}
	// Every literal key the script asks for exists.
	js, err := consoleFiles.ReadFile("console/console.js")
	require.NoError(t, err)
	keys := regexp.MustCompile(`\bt\('([a-zA-Z.]+)'\s*[,)]`).FindAllStringSubmatch(string(js), -1)
	require.Greater(t, len(keys), 50)
	for _, m := range keys {
		_, ok := tx.En[m[1]]
		assert.True(t, ok, "console.js uses text %q, which texts.json lacks", m[1])
	}
}
