# The one entry point for building, running and testing the service.
# `sam build` calls the build-<LogicalId> targets (BuildMethod: makefile) with
# ARTIFACTS_DIR set; the local stack calls the same targets for the host arch.

GO          ?= go
GOARCH      ?= arm64
# The release a build is made from (git describe: v1.4.0, v1.4.0-3-gabc1234,
# -dirty with uncommitted changes); every function logs it at init and
# opsctl --version prints it. Without git (a source copy): VERSION=v1.4.0 make ...
ifndef VERSION
VERSION := $(shell git describe --tags --always --dirty --match 'v[0-9]*' 2>/dev/null || echo unknown)
endif
export VERSION
# sam build's own Go builder adds none of these flags, so we do.
GOFLAGS_LAMBDA := -tags lambda.norpc -trimpath -ldflags "-s -w -X github.com/devplatform/account-migration/shared/lambdaenv.Release=$(VERSION)"
OPSCTL_LDFLAGS := -ldflags "-X main.version=$(VERSION)"
LOCAL_BUILD := .build

# LogicalId -> folder under functions/
FN_ApiFunction            := api
FN_ListAssetsFunction     := list-assets
FN_SplitBySubjectFunction := split-by-subject
FN_RecordAgreementFunction := record-agreement
FN_SelectTargetFunction   := select-target
FN_CommitFunction         := commit
FN_FinishFunction         := finish
FN_WaitingProbeFunction   := waiting-probe
FN_RemindersFunction      := reminders
FN_ImportFunction         := import
FUNCTIONS := ApiFunction ListAssetsFunction SplitBySubjectFunction RecordAgreementFunction SelectTargetFunction CommitFunction FinishFunction WaitingProbeFunction RemindersFunction ImportFunction

API_PORT ?= 3000
AWS_PORT ?= 4566
SEED     ?=
PARAMS   ?=
# Step Functions on moto refuses what AWS refuses (docs/EMULATOR.md, strict mode);
# MOTO_STRICT=0 runs moto as shipped.
MOTO_STRICT ?= 1
export MOTO_STRICT
ACCOUNT  ?= microapp:ma-1001
SCOPE    ?=

.PHONY: build build-local run deploy-local token invoke test bench lint clean browser-deps $(addprefix build-,$(FUNCTIONS))

# One explicit target per function (pattern rules do not apply to .PHONY targets).
define build_function
build-$(1):
	CGO_ENABLED=0 GOOS=linux GOARCH=$$(GOARCH) $$(GO) build $$(GOFLAGS_LAMBDA) -o $$(ARTIFACTS_DIR)/bootstrap ./functions/$$(FN_$(1))
endef
$(foreach f,$(FUNCTIONS),$(eval $(call build_function,$(f))))

# Every function for this machine's architecture, as the local stack runs them.
build-local:
	@for f in $(FUNCTIONS); do $(MAKE) --no-print-directory build-$$f GOARCH=$$($(GO) env GOARCH) ARTIFACTS_DIR=$(LOCAL_BUILD)/$$f || exit 1; done

build:
	@for f in $(FUNCTIONS); do $(MAKE) --no-print-directory build-$$f ARTIFACTS_DIR=$(LOCAL_BUILD)/arm64/$$f || exit 1; done

# make run PARAMS="PendingTimeoutSeconds=120 LogLevel=DEBUG" overrides template parameters.
run: build-local
	$(GO) run ./local/cmd/stack -api-port $(API_PORT) -aws-port $(AWS_PORT) -build-dir $(LOCAL_BUILD) $(if $(SEED),-seed $(SEED),) $(foreach p,$(PARAMS),-param $(p))

# A new build into the stack `make run` runs, in place, as sam deploy does:
# new function code, the state machine updated, migrations in flight kept.
deploy-local: build-local
	@test -f .local/stack.pid || { echo "no local stack runs here (make run)" >&2; exit 1; }
	kill -HUP $$(cat .local/stack.pid)

token:
	@$(GO) run ./local/cmd/token -account "$(ACCOUNT)" $(if $(SCOPE),-scope "$(SCOPE)",)

# One function on the running local stack (make run), as `sam local invoke`
# does in Docker: make invoke FN=ApiFunction EVENT=events/api-get-plan.json
# Prints the function's answer; exits 1 when it returned an error.
FN    ?=
EVENT ?=
invoke:
	@test -n "$(FN)" || { echo "usage: make invoke FN=<LogicalId> [EVENT=events/<file>.json]" >&2; exit 2; }
	@mkdir -p $(LOCAL_BUILD)
	@fnerr=$$(AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_PAGER= \
	  aws lambda invoke --endpoint-url http://127.0.0.1:$(AWS_PORT) --cli-read-timeout 0 \
	  --function-name $(FN) $(if $(EVENT),--payload fileb://$(EVENT),) \
	  --query FunctionError --output text $(LOCAL_BUILD)/invoke-$(FN).json) || exit $$?; \
	cat $(LOCAL_BUILD)/invoke-$(FN).json; echo; \
	if [ "$$fnerr" != "None" ]; then echo "FunctionError: $$fnerr" >&2; exit 1; fi

lint:
	cfn-lint template.yaml
	$(GO) vet ./...

# The inner loop (under a minute on 2 cores, warm): build, vet, and the tests
# that need no emulator: the domain's rules (on its fake store), the edge, the
# workflow's steps, the ASL and template checks, the local stand-ins. The
# packages whose tests run against moto or need npm
# (EMULATOR_PKGS) run in `make check-store`; the whole-stack ones (local/stack,
# api, tools/opsctl, e2e, reliability, the browser test) and the benchmark in
# `make test`, which runs all.
MODULE := github.com/devplatform/account-migration
EMULATOR_PKGS := ./shared/dynamostore/ ./shared/stepfunctions/ ./shared/eventbus/ ./shared/s3store/ \
	./shared/importer/ ./shared/waiting/ ./local/moto/ ./api/client/
UNIT_PKGS := ./shared/... ./statemachine/ ./local/internal/... ./local/jwtlocal/ ./local/demo/ \
	./local/cmd/token/ ./local/faultproxy/ ./local/moto/ ./api/client/ ./events/
.PHONY: check check-store
check:
	$(GO) build ./...
	$(GO) vet ./...
	$(GO) test -short -count=1 -timeout 5m $(filter-out $(patsubst ./%/,$(MODULE)/%,$(EMULATOR_PKGS)),$(shell $(GO) list $(UNIT_PKGS)))

# The store, workflow and import tests against moto, and the generated client
# (about three minutes; -short leaves out the 5,000-asset commit and the
# 10^5-record import).
check-store:
	$(GO) test -short -count=1 -timeout 10m $(EMULATOR_PKGS)

# The browser test's Chromium and axe-core, installed when missing.
browser-deps:
	@bash e2e/console/deps.sh

# go test runs -p (one per core) packages at once, in the order named: the
# long ones (each minutes: a soak, whole-stack flows) go first so that no core
# sits idle at the end waiting for one that started last. ./... adds the rest
# (a package named twice runs once).
SLOW_PKGS := ./reliability/ ./e2e/ ./e2e/upgrade/ ./tools/opsctl/ ./shared/dynamostore/ ./shared/importer/ ./e2e/console/ ./api/ ./local/stack/
test: build-local lint browser-deps
	$(GO) test -count=1 -timeout 40m $(SLOW_PKGS) ./...

clean:
	rm -rf $(LOCAL_BUILD) .aws-sam

# ---- Releases (docs/OPS.md, "Releasing during a campaign") ---------------------
# The previous release (PREV: a tag, branch or commit; default the newest v*
# tag before HEAD, else HEAD~1) built and started on the local stack,
# migrations left in every wait and one mid-move, this build deployed into
# the same running stack, and every migration driven to the end: each batch
# commits exactly once, reconcile is clean, no execution fails.
PREV ?=
.PHONY: upgrade-test
upgrade-test: build-local
	UPGRADE_PREV=$(PREV) $(GO) test -count=1 -timeout 20m -run '^TestUpgrade' -v ./e2e/upgrade/

# ---- Ops (docs/OPS.md) ----------------------------------------------------------
# opsctl against the local stack of `make run` by default. Against AWS, empty
# OPS_ENDPOINT and name the stack's outputs, with AWS_PROFILE / AWS_REGION set:
#   make reconcile OPS_ENDPOINT= OPS_ARGS="--table <TableName output>"
#   make ops OPS_ENDPOINT= ARGS="waiting --older-than 72h --table <TableName output>"
# Built rather than `go run`, which turns every failure into exit status 1:
# opsctl's 1 (found something) and 2 (could not look) stay apart.
OPS_ENDPOINT ?= http://127.0.0.1:$(AWS_PORT)
OPS_ARGS     ?=
ARGS         ?=
OPSCTL        = $(LOCAL_BUILD)/opsctl $(if $(OPS_ENDPOINT),--endpoint-url $(OPS_ENDPOINT),)

.PHONY: reconcile ops

# The reconciliation check: prints the report, exits non-zero on any violation.
reconcile:
	@$(GO) build $(OPSCTL_LDFLAGS) -o $(LOCAL_BUILD)/opsctl ./tools/opsctl
	@$(OPSCTL) reconcile $(OPS_ARGS)

# Any opsctl command: make ops ARGS="show --account microapp:ma-1001"
ops:
	@$(GO) build $(OPSCTL_LDFLAGS) -o $(LOCAL_BUILD)/opsctl ./tools/opsctl
	@$(OPSCTL) $(if $(ARGS),$(ARGS),-h) $(OPS_ARGS)

# ---- Reliability (RELIABILITY.md) -----------------------------------------------
# `make test` runs ./reliability with bounded defaults (1,000 migrations under
# faults, hostile requests, auth). `make soak` runs the soak alone for longer
# and writes its figures as JSON: make soak SOAK_MIGRATIONS=20000 SOAK_SEED=7
SOAK_MIGRATIONS ?= 5000
SOAK_SECONDS    ?= 0
SOAK_SEED       ?=
SOAK_REPORT     ?= $(LOCAL_BUILD)/soak-report.json

# The import's scale run as the contract names it: a generated 10^5-record
# file imported, imported again (adds nothing), and killed half-way then run
# again (the same table). make test runs the same test on 2 x 10^4 records.
IMPORT_SCALE_RECORDS ?= 100000
.PHONY: import-scale
import-scale:
	IMPORT_SCALE_RECORDS=$(IMPORT_SCALE_RECORDS) $(GO) test -count=1 -timeout 3h -run '^TestImportAtScaleSurvivesKill$$' -v ./shared/importer/

.PHONY: soak
soak:
	@mkdir -p $(dir $(SOAK_REPORT))
	SOAK_MIGRATIONS=$(SOAK_MIGRATIONS) SOAK_SECONDS=$(SOAK_SECONDS) SOAK_BUDGET_SECONDS=0 $(if $(SOAK_SEED),SOAK_SEED=$(SOAK_SEED),) \
	SOAK_REPORT=$(abspath $(SOAK_REPORT)) $(GO) test -count=1 -timeout 6h -run '^TestSoak$$' -v ./reliability/

# ---- Benchmarks (BENCHMARKS.md) -------------------------------------------------
# Side by side in one run: the commit against the store's best case, the cost
# of a batch, state payloads, cold starts against a hello-world bootstrap, API
# latency against the raw queries, dollars per migration, and the population
# plan (CAPACITY.md) with its bulk-start check. Prints `BENCH <name> <value> <unit>` lines,
# rewrites the table in BENCHMARKS.md and draws docs/growth.png. More or other
# figures: make bench BENCH_FLAGS="-payload-sizes 200,1000,10000" (go run ./bench -h).
BENCH_FLAGS ?=

.PHONY: bench capacity
bench: build-local build
	BENCH_COMMAND="make bench$(if $(BENCH_FLAGS), BENCH_FLAGS='$(BENCH_FLAGS)',)" $(GO) run ./bench $(BENCH_FLAGS)

# The population plan alone (no stack): make capacity CAPACITY_FLAGS="-starts-per-day 300000"
CAPACITY_FLAGS ?=
capacity:
	$(GO) run ./bench/capacity $(CAPACITY_FLAGS)
