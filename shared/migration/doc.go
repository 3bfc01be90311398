// Package migration is the domain of the account migration: what an old
// platform's account holds (Snapshot and its records, snapshot.go), how it
// splits into one batch per subject and target platform (split.go), a
// Migration and the state derived from its batches (migration.go), a Batch,
// the states it goes through and the rules between them (batch.go, the use
// cases), the target accounts and the choice of one (target_account.go), the
// errors with their stable codes (errors.go), and the audit events every
// change leaves (audit.go).
//
// The use cases are three services over one set of dependencies (Deps,
// migrator.go): DeveloperActions (Start, AcceptAgreement, SelectTarget,
// Confirm, ...), WorkflowSteps (Begin, Await, Move, HandOff, Expire, Fail,
// Stall, Summarize, ...) and Reads (what the HTTP API shows). Migrator holds
// all three. The HTTP edge (shared/httpapi) and the workflow's Lambda steps
// (shared/workflow) both call them, so a rule runs the same way whichever
// path a user takes; each batch's outcome is reported once, by the use case
// whose write decided it (Outcomes, outcome.go).
//
// The package imports no AWS package. What it needs from the outside it names
// as ports: Store, by role (Holdings, Migrations, ...; ports.go), implemented
// with DynamoDB's conditional writes by shared/dynamostore; Signaller and
// Starter (ports.go), implemented with Step Functions by shared/stepfunctions;
// Publisher (notify.go) and Manifests (handoff.go) for the developer's notices
// and the committed batches' lists.
package migration
