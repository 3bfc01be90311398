package client

import (
	"context"
	"net/http"
	"net/url"
)

// One method per operation of api/openapi.yaml (operationId in the comment).
// Each returns the decoded answer, the raw Response (status, headers) and,
// for a status of 400 or more, an *APIError.

// Health is healthz: GET /healthz.
func (c *Client) Health(ctx context.Context) (*Health, *Response, error) {
	var out Health
	res, err := c.call(ctx, http.MethodGet, "/healthz", nil, &out)
	return &out, res, err
}

// OpenAPI is getOpenAPI: GET /openapi.yaml, the spec as served.
func (c *Client) OpenAPI(ctx context.Context) ([]byte, *Response, error) {
	res, err := c.Do(ctx, http.MethodGet, "/openapi.yaml", nil)
	if err != nil {
		return nil, nil, err
	}
	if res.Status >= 400 {
		return nil, res, apiError(res)
	}
	return res.Body, res, nil
}

// Assets is listAssets: GET /v1/assets.
func (c *Client) Assets(ctx context.Context, p Page) (*Assets, *Response, error) {
	var out Assets
	res, err := c.call(ctx, http.MethodGet, paged("/v1/assets", p), nil, &out)
	return &out, res, err
}

// Plan is getPlan: GET /v1/plan.
func (c *Client) Plan(ctx context.Context) (*Plan, *Response, error) {
	var out Plan
	res, err := c.call(ctx, http.MethodGet, "/v1/plan", nil, &out)
	return &out, res, err
}

// StartMigration is startMigration: POST /v1/migrations. The status says 202
// (started) or 200 (the active one); in nil sends no body (all batches).
func (c *Client) StartMigration(ctx context.Context, in *StartRequest, opts ...Option) (*Started, *Response, error) {
	var out Started
	var body any
	if in != nil {
		body = in
	}
	res, err := c.call(ctx, http.MethodPost, "/v1/migrations", body, &out, opts...)
	return &out, res, err
}

// Migrations is listMigrations: GET /v1/migrations, newest first (limit 1-50).
func (c *Client) Migrations(ctx context.Context, p Page) (*History, *Response, error) {
	var out History
	res, err := c.call(ctx, http.MethodGet, paged("/v1/migrations", p), nil, &out)
	return &out, res, err
}

// Receipt is getReceipt: GET /v1/migrations/{migrationId}/batches/{batchId}/receipt.
func (c *Client) Receipt(ctx context.Context, migrationID, batchID string, p Page) (*Receipt, *Response, error) {
	var out Receipt
	res, err := c.call(ctx, http.MethodGet, paged(batchPath(migrationID, batchID)+"/receipt", p), nil, &out)
	return &out, res, err
}

// Migration is getMigration: GET /v1/migrations/{migrationId}.
func (c *Client) Migration(ctx context.Context, migrationID string) (*Migration, *Response, error) {
	var out Migration
	res, err := c.call(ctx, http.MethodGet, "/v1/migrations/"+url.PathEscape(migrationID), nil, &out)
	return &out, res, err
}

// Review is reviewBatch: GET /v1/migrations/{migrationId}/batches/{batchId}.
func (c *Client) Review(ctx context.Context, migrationID, batchID string, p Page) (*Review, *Response, error) {
	var out Review
	res, err := c.call(ctx, http.MethodGet, paged(batchPath(migrationID, batchID), p), nil, &out)
	return &out, res, err
}

// Agreement is getAgreement: GET /v1/agreement (records the view).
func (c *Client) Agreement(ctx context.Context) (*Agreement, *Response, error) {
	var out Agreement
	res, err := c.call(ctx, http.MethodGet, "/v1/agreement", nil, &out)
	return &out, res, err
}

// AcceptAgreement is acceptAgreement: POST …/batches/{batchId}/agreement.
func (c *Client) AcceptAgreement(ctx context.Context, migrationID, batchID string, in AcceptRequest, opts ...Option) (*Batch, *Response, error) {
	var out Batch
	res, err := c.call(ctx, http.MethodPost, batchPath(migrationID, batchID)+"/agreement", in, &out, opts...)
	return &out, res, err
}

// Targets is listTargets: GET …/batches/{batchId}/targets.
func (c *Client) Targets(ctx context.Context, migrationID, batchID string) (*Targets, *Response, error) {
	var out Targets
	res, err := c.call(ctx, http.MethodGet, batchPath(migrationID, batchID)+"/targets", nil, &out)
	return &out, res, err
}

// SelectTarget is selectTarget: PUT …/batches/{batchId}/target.
func (c *Client) SelectTarget(ctx context.Context, migrationID, batchID string, t Target, opts ...Option) (*Batch, *Response, error) {
	var out Batch
	res, err := c.call(ctx, http.MethodPut, batchPath(migrationID, batchID)+"/target", t, &out, opts...)
	return &out, res, err
}

// Commit is commitBatch: POST …/batches/{batchId}/commit with {"confirm":true}.
func (c *Client) Commit(ctx context.Context, migrationID, batchID string, opts ...Option) (*Batch, *Response, error) {
	var out Batch
	res, err := c.call(ctx, http.MethodPost, batchPath(migrationID, batchID)+"/commit", CommitRequest{Confirm: true}, &out, opts...)
	return &out, res, err
}

// TargetAccount is getTargetAccount: GET /v1/targets/{platform}/accounts/{accountId}.
func (c *Client) TargetAccount(ctx context.Context, platform, accountID string, p Page) (*TargetAccount, *Response, error) {
	var out TargetAccount
	path := "/v1/targets/" + url.PathEscape(platform) + "/accounts/" + url.PathEscape(accountID)
	res, err := c.call(ctx, http.MethodGet, paged(path, p), nil, &out)
	return &out, res, err
}

// OpsAccountMigration is opsGetAccountMigration: GET
// /v1/ops/accounts/{platform}/{accountId}/migration (scope migration:ops).
func (c *Client) OpsAccountMigration(ctx context.Context, platform, accountID string) (*Migration, *Response, error) {
	var out Migration
	path := "/v1/ops/accounts/" + url.PathEscape(platform) + "/" + url.PathEscape(accountID) + "/migration"
	res, err := c.call(ctx, http.MethodGet, path, nil, &out)
	return &out, res, err
}
