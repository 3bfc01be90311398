// Command reminders runs on an hourly schedule: each batch waiting on its
// developer gets a BatchExpiring event at the offsets before its deadline,
// and the audit trail's IPs and user agents past their retention period are
// removed (shared/retention).
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/devplatform/account-migration/shared/eventbus"
	"github.com/devplatform/account-migration/shared/lambdaenv"
	"github.com/devplatform/account-migration/shared/retention"
	"github.com/devplatform/account-migration/shared/waiting"
)

func main() {
	env := lambdaenv.MustLoad()
	offsets, err := waiting.ParseOffsets(os.Getenv("REMINDER_OFFSETS_SECONDS"))
	if err != nil {
		slog.Error("init failed", "error", err)
		os.Exit(1)
	}
	period, err := retention.PeriodFromEnv(os.Getenv("PERSONAL_DATA_RETENTION_DAYS"))
	if err != nil {
		slog.Error("init failed", "error", err)
		os.Exit(1)
	}
	env.Migrator.Events = eventbus.FromEnv(env.AWS)
	h := retention.Hourly{
		Reminders: waiting.Reminder{Store: env.Store.OpsReads, Migrator: env.Migrator, Offsets: offsets, Log: env.Log},
		Retention: retention.Job{Store: env.Store.Audit, Period: period, Log: env.Log},
	}
	lambda.Start(h.Handle)
}
