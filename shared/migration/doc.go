// Package migration is the domain of the account migration: what an old
// platform's account holds (Snapshot and its records), how it splits into one
// batch per subject and target platform (split.go), the states a batch goes
// through and the rules between them (batch.go, the use cases), the errors
// with their stable codes (errors.go), and the audit events every change
// leaves.
//
// The use cases are methods of Migrator: the developer's actions (Start,
// AcceptAgreement, SelectTarget, Confirm), the workflow's steps (Move,
// Expire, Fail, Stall, Summarize) and the reads behind the HTTP API. The HTTP
// edge (shared/httpapi) and the workflow's Lambda steps (shared/workflow)
// both call them, so a rule runs the same way whichever path a user takes.
//
// The package imports no AWS package. What it needs from the outside it names
// as ports: Store, by role (Holdings, Migrations, ...; ports.go), implemented
// with DynamoDB's conditional writes by shared/dynamostore; Signaller and
// Starter (ports.go), implemented with Step Functions by shared/stepfunctions;
// Publisher (notify.go) and Manifests (handoff.go) for the developer's notices
// and the committed batches' lists.
package migration
