// Command waiting-probe runs on a schedule: it delivers again the wakes a
// workflow may not have heard (a SendTaskSuccess that failed for good), then
// publishes the age of the oldest batch waiting on a developer, the metric
// BatchesWaitingTooLong alarms on.
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/devplatform/account-migration/shared/lambdaenv"
	"github.com/devplatform/account-migration/shared/waiting"
)

func main() {
	env := lambdaenv.MustLoad()
	p := waiting.Prober{Store: env.Store.OpsReads}
	lambda.Start(func(ctx context.Context, ev waiting.Event) (waiting.Report, error) {
		if n, err := env.Migrator.Rewake(ctx, env.Store.OpsReads); err != nil {
			slog.ErrorContext(ctx, "rewake failed; the next run tries again", "delivered", n, "error", err)
		} else if n > 0 {
			slog.WarnContext(ctx, "wakes delivered again", "delivered", n)
		}
		return p.Handle(ctx, ev)
	})
}
