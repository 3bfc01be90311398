// Package httpapi is the HTTP edge: API Gateway (payload format 2.0) events in,
// JSON out. It decodes strictly, takes the caller's account from the verified
// token's claims only, calls the same use cases the workflow calls, and maps
// coded errors to statuses in one table.
package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/devplatform/account-migration/shared/metrics"
	"github.com/devplatform/account-migration/shared/migration"
	"github.com/devplatform/account-migration/shared/strictjson"
)

// MaxBodyBytes bounds a request body; larger ones get 413 and change nothing.
const MaxBodyBytes = 1 << 20

// OpsScope is the scope ops routes need.
const OpsScope = "migration:ops"

// DeveloperScope is the scope every developer route needs (the authorizer
// checks it too): a token of the same audience issued for another purpose
// does not act on a developer's migration.
const DeveloperScope = "migration:developer"

// OpsReader is what the ops routes read besides the use cases.
type OpsReader interface {
	LatestMigration(ctx context.Context, src migration.AccountRef) (migration.Migration, error)
}

// UseCases are what the routes call: what a developer does
// (migration.DeveloperActions) and reads (migration.Reads).
// *migration.Migrator has them all.
type UseCases interface {
	ViewAgreementIn(ctx context.Context, src migration.AccountRef, lang string, meta migration.RequestMeta) (migration.Agreement, error)
	Start(ctx context.Context, src migration.AccountRef, batchKeys []string) (migration.StartResult, error)
	AcceptAgreement(ctx context.Context, src migration.AccountRef, migrationID, batchID, version, sha string, meta migration.RequestMeta) (migration.Batch, error)
	Candidates(ctx context.Context, src migration.AccountRef, migrationID, batchID string) ([]migration.TargetAccount, migration.Batch, error)
	SelectTarget(ctx context.Context, src migration.AccountRef, migrationID, batchID string, t migration.Target) (migration.Batch, error)
	Confirm(ctx context.Context, src migration.AccountRef, migrationID, batchID string) (migration.Batch, error)

	Plan(ctx context.Context, src migration.AccountRef) (migration.Plan, error)
	Assets(ctx context.Context, src migration.AccountRef, cursor string, limit int) (migration.AssetsPage, error)
	Subject(ctx context.Context, subjectID string) (migration.Subject, error)
	OwnMigration(ctx context.Context, src migration.AccountRef, migrationID string) (migration.Migration, []migration.Batch, error)
	BatchesOf(ctx context.Context, migrationID string) ([]migration.Batch, error)
	State(m migration.Migration, batches []migration.Batch) migration.MigrationState
	ReviewBatch(ctx context.Context, src migration.AccountRef, migrationID, batchID, cursor string, limit int) (migration.Review, error)
	TargetHoldings(ctx context.Context, src migration.AccountRef, p migration.TargetPlatform, accountID, cursor string, limit int) (migration.TargetView, error)
	History(ctx context.Context, src migration.AccountRef, cursor string, limit int) (migration.History, error)
	Receipt(ctx context.Context, src migration.AccountRef, migrationID, batchID, cursor string, limit int) (migration.Receipt, error)
}

// API serves every route of docs/CONTRACT.md §2.
type API struct {
	Migrator    UseCases
	Idempotency Idempotency
	Ops         OpsReader
	Log         *slog.Logger
	// Release is the release the function was built from (git describe),
	// answered by GET /healthz so ops see which code a canary serves.
	Release string
	// IdempotencyWait and IdempotencyLease override the defaults (tests).
	IdempotencyWait, IdempotencyLease time.Duration

	plans planCache // GET /v1/plan (plan_cache.go)
}

type request struct {
	ev      events.APIGatewayV2HTTPRequest
	caller  migration.AccountRef
	scopes  []string
	body    []byte
	meta    migration.RequestMeta
	reqID   string
	started time.Time
}

func (r *request) param(name string) string { return r.ev.PathParameters[name] }

type handlerFunc func(ctx context.Context, r *request) (int, any, error)

type route struct {
	h          handlerFunc
	auth       bool
	scope      string
	idempotent bool // honours Idempotency-Key
}

func (a *API) routes() map[string]route {
	return map[string]route{
		"GET /healthz":                     {h: a.healthz},
		"GET /openapi.yaml":                {h: a.openapi},
		"GET /v1/assets":                   {h: a.assets, auth: true},
		"GET /v1/plan":                     {h: a.plan, auth: true},
		"POST /v1/migrations":              {h: a.startMigration, auth: true, idempotent: true},
		"GET /v1/agreement":                {h: a.agreement, auth: true},
		"GET /v1/migrations":               {h: a.history, auth: true},
		"GET /v1/migrations/{migrationId}": {h: a.migrationStatus, auth: true},
		"GET /v1/migrations/{migrationId}/batches/{batchId}":            {h: a.review, auth: true},
		"POST /v1/migrations/{migrationId}/batches/{batchId}/agreement": {h: a.accept, auth: true, idempotent: true},
		"GET /v1/migrations/{migrationId}/batches/{batchId}/targets":    {h: a.targets, auth: true},
		"PUT /v1/migrations/{migrationId}/batches/{batchId}/target":     {h: a.selectTarget, auth: true, idempotent: true},
		"POST /v1/migrations/{migrationId}/batches/{batchId}/commit":    {h: a.commit, auth: true, idempotent: true},
		"GET /v1/migrations/{migrationId}/batches/{batchId}/receipt":    {h: a.receipt, auth: true},
		"GET /v1/targets/{platform}/accounts/{accountId}":               {h: a.targetAccount, auth: true},
		"GET /v1/ops/accounts/{platform}/{accountId}/migration":         {h: a.opsMigration, auth: true, scope: OpsScope},
	}
}

// Handle is the Lambda handler.
func (a *API) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	r := &request{ev: ev, reqID: ev.RequestContext.RequestID, started: time.Now(),
		meta: migration.RequestMeta{SourceIP: ev.RequestContext.HTTP.SourceIP, UserAgent: truncate(ev.RequestContext.HTTP.UserAgent, 256)}}
	// API Gateway's request id (the one the caller sees in an error body) is
	// apiRequestId: the Lambda log handler adds the invocation's own requestId
	// to every line, and one JSON line must not carry the same key twice.
	log := a.logger().With("apiRequestId", r.reqID, "route", ev.RouteKey)
	if ev.RouteKey == ConsoleRoute {
		return serveConsole(ev), nil // the developer console (console.go): a page, not JSON
	}
	rt, ok := a.routes()[ev.RouteKey]
	if !ok {
		return a.fail(ctx, log, r, migration.Errorf(codeRouteNotFound, "no route %s", ev.RouteKey)), nil
	}
	if err := a.authenticate(r, rt); err != nil {
		return a.fail(ctx, log, r, err), nil
	}
	if r.caller.ID != "" {
		log = log.With("account", r.caller.String())
	}
	for _, name := range []string{"migrationId", "batchId", "accountId"} {
		if v, ok := ev.PathParameters[name]; ok && !migration.ValidID(v) {
			return a.fail(ctx, log, r, migration.Errorf(migration.CodeNotFound, "no such %s", name)), nil
		}
	}
	for _, name := range []string{"migrationId", "batchId"} {
		if v := ev.PathParameters[name]; v != "" {
			log = log.With(name, v) // checked above: a valid id, never free text
		}
	}
	body, err := readBody(ev)
	if err != nil {
		return a.fail(ctx, log, r, err), nil
	}
	r.body = body

	var claim *idemClaim
	if key := header(ev, "idempotency-key"); rt.idempotent && key != "" {
		if !validIdempotencyKey(key) {
			return a.fail(ctx, log, r, migration.Errorf(migration.CodeInvalidInput, "Idempotency-Key must be 1-255 visible ASCII characters")), nil
		}
		c, replay, err := a.claimKey(ctx, r, key, requestHash(ev, body))
		if err != nil {
			return a.fail(ctx, log, r, err), nil
		}
		if replay != nil {
			log.InfoContext(ctx, "request replayed", "status", replay.StatusCode, "ms", time.Since(r.started).Milliseconds())
			return *replay, nil
		}
		claim = c
	}
	res, code := a.run(ctx, log, r, rt)
	if claim != nil {
		a.settle(ctx, log, claim, res, code)
	}
	return res, nil
}

// run calls the route's handler; code is the error's code when it failed.
func (a *API) run(ctx context.Context, log *slog.Logger, r *request, rt route) (events.APIGatewayV2HTTPResponse, migration.Code) {
	status, out, err := rt.h(ctx, r)
	if err != nil {
		return a.fail(ctx, log, r, err), migration.ErrorCode(err)
	}
	if raw, ok := out.(rawReply); ok {
		return respondRaw(status, raw, r.reqID), ""
	}
	payload, err := json.Marshal(out)
	if err != nil {
		return a.fail(ctx, log, r, err), migration.CodeInternal
	}
	if id := startedMigrationID(r.ev, status, payload); id != "" {
		log = log.With("migrationId", id)
	}
	log.InfoContext(ctx, "request", "status", status, "ms", time.Since(r.started).Milliseconds())
	return respond(status, payload, r.reqID, false), ""
}

func (a *API) logger() *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.Default()
}

// startedMigrationID names the migration POST /v1/migrations started or
// found, for its log line (its id is in no path).
func startedMigrationID(ev events.APIGatewayV2HTTPRequest, status int, payload []byte) string {
	if ev.RouteKey != "POST /v1/migrations" || status >= 300 {
		return ""
	}
	var out struct {
		MigrationID string `json:"migrationId"`
	}
	if json.Unmarshal(payload, &out) != nil || !migration.ValidID(out.MigrationID) {
		return ""
	}
	return out.MigrationID
}

func (a *API) fail(ctx context.Context, log *slog.Logger, r *request, err error) events.APIGatewayV2HTTPResponse {
	status, code, msg := publicError(err)
	if status >= 500 {
		log.ErrorContext(ctx, "request failed", "status", status, "code", string(code), "error", err.Error())
	} else {
		log.InfoContext(ctx, "request refused", "status", status, "code", string(code))
	}
	metrics.RequestFailed(ctx, r.reqID, r.ev.RouteKey, string(code), status)
	var body errorBody
	body.Error.Code, body.Error.Message, body.Error.RequestID = code, msg, r.reqID
	payload, _ := json.Marshal(body)
	return respond(status, payload, r.reqID, false)
}

func respond(status int, body []byte, reqID string, replayed bool) events.APIGatewayV2HTTPResponse {
	h := map[string]string{"content-type": "application/json", "x-request-id": reqID, "cache-control": "no-store"}
	if replayed {
		h["idempotent-replayed"] = "true"
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: h, Body: string(body)}
}

// authenticate reads the caller from the claims API Gateway's JWT authorizer
// verified. The account always comes from here, never from the path or body.
func (a *API) authenticate(r *request, rt route) error {
	if !rt.auth {
		return nil
	}
	var claims map[string]string
	var scopes []string
	if au := r.ev.RequestContext.Authorizer; au != nil && au.JWT != nil {
		claims, scopes = au.JWT.Claims, au.JWT.Scopes
	}
	if len(scopes) == 0 {
		scopes = strings.Fields(claims["scope"])
	}
	r.scopes = scopes
	if rt.scope != "" {
		// An ops route names the account in its path: the token needs the
		// scope (the authorizer checks it too), not an old-platform account.
		if len(claims) == 0 {
			return migration.Errorf(codeUnauthorized, "a verified token is required")
		}
		if !contains(scopes, rt.scope) {
			return migration.Errorf(codeForbidden, "this route needs the %s scope", rt.scope)
		}
		return nil
	}
	ref := migration.AccountRef{Platform: claims["platform"], ID: claims["sub"]}
	if !migration.SourcePlatform(ref.Platform).Valid() {
		return migration.Errorf(codeUnauthorized, "the token does not name an old-platform account")
	}
	if !migration.ValidID(ref.ID) {
		return migration.Errorf(codeUnauthorized, "the token does not name an old-platform account")
	}
	if !contains(scopes, DeveloperScope) {
		return migration.Errorf(codeForbidden, "this route needs the %s scope", DeveloperScope)
	}
	r.caller = ref
	return nil
}

func readBody(ev events.APIGatewayV2HTTPRequest) ([]byte, error) {
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		if base64.StdEncoding.DecodedLen(len(ev.Body)) > MaxBodyBytes+3 {
			return nil, migration.Errorf(codePayloadTooLarge, "request body is larger than %d bytes", MaxBodyBytes)
		}
		b, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return nil, migration.Errorf(migration.CodeInvalidInput, "request body is not valid base64")
		}
		body = b
	}
	if len(body) > MaxBodyBytes {
		return nil, migration.Errorf(codePayloadTooLarge, "request body is larger than %d bytes", MaxBodyBytes)
	}
	if len(bytes.TrimSpace(body)) > 0 {
		ct := header(ev, "content-type")
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, migration.Errorf(codeUnsupportedMedia, "send the body as application/json")
		}
		if !utf8.Valid(body) {
			return nil, migration.Errorf(migration.CodeInvalidInput, "request body is not UTF-8")
		}
	}
	return body, nil
}

// decode reads a JSON body strictly: unknown fields, trailing data and
// malformed JSON are refused. An empty body is allowed only when optional.
func decode(body []byte, v any, optional bool) error {
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return nil
		}
		return migration.Errorf(migration.CodeInvalidInput, "a JSON body is required")
	}
	if err := strictjson.Decode(body, v); err != nil {
		return migration.Errorf(migration.CodeInvalidInput, "request body is not valid: %s", strictjson.Problem(err))
	}
	return nil
}

func header(ev events.APIGatewayV2HTTPRequest, name string) string {
	for k, v := range ev.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func validIdempotencyKey(k string) bool {
	if len(k) == 0 || len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// requestHash binds an Idempotency-Key to one request: route, path and body.
func requestHash(ev events.APIGatewayV2HTTPRequest, body []byte) string {
	h := sha256.New()
	h.Write([]byte(ev.RouteKey + "\x00" + ev.RawPath + "\x00"))
	// The same JSON however spaced hashes the same; numbers keep their text.
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var canon any
	if dec.Decode(&canon) == nil {
		if b, err := json.Marshal(canon); err == nil {
			body = b
		}
	}
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func limitParam(r *request) (int, error) {
	v := r.ev.QueryStringParameters["limit"]
	if v == "" {
		return 200, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, migration.Errorf(migration.CodeInvalidInput, "limit must be 1-1000")
	}
	return n, nil
}

func (a *API) healthz(context.Context, *request) (int, any, error) {
	h := map[string]string{"status": "ok"}
	if a.Release != "" {
		h["release"] = a.Release
	}
	return http.StatusOK, h, nil
}
