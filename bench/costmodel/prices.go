package costmodel

// Prices are AWS's published on-demand prices for one region and Lambda
// architecture, in US dollars per unit.
type Prices struct {
	Region, Arch string
	Source       string // where the figures were read, and when
	// Step Functions Standard workflows: per state transition.
	StateTransition float64
	// Lambda: per request, and per GB-second of billed duration (1 ms steps).
	LambdaRequest, LambdaGBSecond float64
	// DynamoDB on-demand: per write request unit and per read request unit.
	WriteRequestUnit, ReadRequestUnit float64
	// EventBridge: per custom event published (each 64 KB chunk).
	Event float64
}

// USEast1Arm64 is the template's region (samconfig.toml: us-east-1) and
// architecture (Globals.Function.Architectures: arm64). Read 2026-12-01
// from AWS's public price pages, first tier of each, no free tier:
//   - https://aws.amazon.com/step-functions/pricing/  $0.025 per 1,000 state transitions
//   - https://aws.amazon.com/lambda/pricing/          Arm: $0.20 per 1M requests, $0.0000133334 per GB-s (first 7.5B GB-s a month)
//   - https://aws.amazon.com/dynamodb/pricing/on-demand/  $0.625 per million WRU, $0.125 per million RRU (since 2024-11-01)
//   - https://aws.amazon.com/eventbridge/pricing/     custom events: $1.00 per million
var USEast1Arm64 = Prices{
	Region: "us-east-1", Arch: "arm64",
	Source:           "AWS public pricing pages for us-east-1, read 2026-12-01",
	StateTransition:  0.025 / 1000,
	LambdaRequest:    0.20 / 1e6,
	LambdaGBSecond:   0.0000133334,
	WriteRequestUnit: 0.625 / 1e6,
	ReadRequestUnit:  0.125 / 1e6,
	Event:            1.00 / 1e6,
}
