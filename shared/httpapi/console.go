package httpapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/events"
)

// The developer console (GET /): one HTML document with its CSS, texts and
// script inlined, so the page is one request, same origin as the API, and its
// Content-Security-Policy can allow exactly that script and style by hash.

//go:embed console/index.html console/console.css console/console.js console/texts.json
var consoleFiles embed.FS

// ConsoleRoute is the route key the console is served on (no authorizer).
const ConsoleRoute = "GET /"

// consolePage is built on the first GET /, not at init: every function links
// this package (through the store's idempotency records), and compressing
// the page cost each one ~7 ms of its cold start.
var consolePage = sync.OnceValue(buildConsole)

type consoleDoc struct {
	html, gz []byte
	csp      string
}

func buildConsole() consoleDoc {
	read := func(name string) string {
		b, err := consoleFiles.ReadFile("console/" + name)
		if err != nil {
			panic(err) // embedded at build time: cannot happen
		}
		return string(b)
	}
	css, js, texts := read("console.css"), read("console.js"), read("texts.json")
	// "</" inside the JSON would end its script element early.
	texts = strings.ReplaceAll(texts, "</", `<\/`)
	page := strings.NewReplacer("/*CSS*/", css, "/*JS*/", js, "/*TEXTS*/", texts).Replace(read("index.html"))
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	_, _ = zw.Write([]byte(page))
	_ = zw.Close()
	return consoleDoc{html: []byte(page), gz: gz.Bytes(),
		csp: "default-src 'none'; script-src " + hash(js) + "; style-src " + hash(css) +
			"; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"}
}

// ConsoleHTML is the page as served uncompressed (tests measure its weight).
func ConsoleHTML() []byte { return consolePage().html }

// serveConsole answers GET / with the page, gzipped when the browser takes it.
func serveConsole(ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	h := map[string]string{
		"content-type":            "text/html; charset=utf-8",
		"content-security-policy": consolePage().csp,
		"x-content-type-options":  "nosniff",
		"referrer-policy":         "no-referrer",
		"cache-control":           "no-cache",
		"vary":                    "accept-encoding",
	}
	if strings.Contains(header(ev, "accept-encoding"), "gzip") {
		h["content-encoding"] = "gzip"
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: h, IsBase64Encoded: true,
			Body: base64.StdEncoding.EncodeToString(consolePage().gz)}
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: h, Body: string(consolePage().html)}
}
