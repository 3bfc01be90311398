// Command echofn is a test Lambda for the local emulator pool: it echoes its
// input, or fails in the way the input asks.
package main

import (
	"context"
	"encoding/json"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type request struct {
	Action  string          `json:"action"` // echo | error | panic | exit | sleep
	Seconds float64         `json:"seconds"`
	Value   json.RawMessage `json:"value"`
}

// EchoError is a named error type: aws-lambda-go reports its name as errorType.
type EchoError struct{ Msg string }

func (e *EchoError) Error() string { return e.Msg }

func handle(ctx context.Context, req request) (any, error) {
	switch req.Action {
	case "error":
		return nil, &EchoError{Msg: "asked to fail"}
	case "panic":
		panic("asked to panic")
	case "exit":
		os.Exit(3)
	case "sleep":
		time.Sleep(time.Duration(req.Seconds * float64(time.Second)))
	}
	return map[string]any{"value": req.Value, "function": os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), "pid": os.Getpid()}, nil
}

func main() { lambda.Start(handle) }
