// Command reminders runs on a schedule: each batch waiting on its developer
// gets a BatchExpiring event at the offsets before its deadline.
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/devplatform/account-migration/shared/eventbus"
	"github.com/devplatform/account-migration/shared/lambdaenv"
	"github.com/devplatform/account-migration/shared/waiting"
)

func main() {
	env := lambdaenv.MustLoad()
	offsets, err := waiting.ParseOffsets(os.Getenv("REMINDER_OFFSETS_SECONDS"))
	if err != nil {
		slog.Error("init failed", "error", err)
		os.Exit(1)
	}
	env.Migrator.Events = eventbus.FromEnv(env.AWS)
	r := waiting.Reminder{Store: env.Store, Migrator: env.Migrator, Offsets: offsets, Log: env.Log}
	lambda.Start(r.Handle)
}
