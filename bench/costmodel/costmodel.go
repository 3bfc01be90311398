// Package costmodel turns what one migration used (state transitions, Lambda
// invocations and their durations, DynamoDB request units, events) into
// dollars at AWS's published prices. It is a pure function of its inputs, so
// the bench (measured counts) and the capacity plan (counts scaled to a
// population) price the same way.
package costmodel

import (
	"math"
	"time"
)

// Invocation is one Lambda invocation as billed: its configured memory and
// its duration (billed rounded up to the millisecond).
type Invocation struct {
	Function string
	MemoryMB int
	Duration time.Duration
}

// Usage is what one migration (or any piece of work) consumed.
type Usage struct {
	Transitions int
	Invocations []Invocation
	// Request units as DynamoDB bills them (transactional writes count 2 per
	// KB, eventually consistent reads 0.5 per 4 KB).
	WriteUnits, ReadUnits float64
	Events                int
}

// Bill is a usage priced, by service.
type Bill struct {
	StepFunctions  float64
	LambdaRequests float64
	LambdaDuration float64
	DynamoDBWrites float64
	DynamoDBReads  float64
	EventBridge    float64
}

// Lambda is both parts of Lambda's price.
func (b Bill) Lambda() float64 { return b.LambdaRequests + b.LambdaDuration }

// DynamoDB is reads and writes.
func (b Bill) DynamoDB() float64 { return b.DynamoDBWrites + b.DynamoDBReads }

// Total is the whole bill.
func (b Bill) Total() float64 {
	return b.StepFunctions + b.Lambda() + b.DynamoDB() + b.EventBridge
}

// Scale multiplies every line (n migrations of the same mix).
func (b Bill) Scale(n float64) Bill {
	return Bill{b.StepFunctions * n, b.LambdaRequests * n, b.LambdaDuration * n, b.DynamoDBWrites * n, b.DynamoDBReads * n, b.EventBridge * n}
}

// GBSeconds is the billed compute of the invocations: memory in GB (1,024 MB)
// times the duration rounded up to the next millisecond.
func GBSeconds(invs []Invocation) float64 {
	gbs := 0.0
	for _, in := range invs {
		ms := math.Ceil(float64(in.Duration) / float64(time.Millisecond))
		gbs += float64(in.MemoryMB) / 1024 * ms / 1000
	}
	return gbs
}

// Price prices u at p.
func Price(u Usage, p Prices) Bill {
	return Bill{
		StepFunctions:  float64(u.Transitions) * p.StateTransition,
		LambdaRequests: float64(len(u.Invocations)) * p.LambdaRequest,
		LambdaDuration: GBSeconds(u.Invocations) * p.LambdaGBSecond,
		DynamoDBWrites: u.WriteUnits * p.WriteRequestUnit,
		DynamoDBReads:  u.ReadUnits * p.ReadRequestUnit,
		EventBridge:    float64(u.Events) * p.Event,
	}
}

// WriteUnits is what DynamoDB bills for writing an item of size bytes: one
// unit per KB started, twice that inside a transaction.
func WriteUnits(size int, transactional bool) float64 {
	u := math.Max(1, math.Ceil(float64(size)/1024))
	if transactional {
		u *= 2
	}
	return u
}

// ReadUnits is what DynamoDB bills for reading size bytes in one request:
// one unit per 4 KB started for a strongly consistent read, half that for an
// eventually consistent one, twice it in a transaction.
func ReadUnits(size int, consistent, transactional bool) float64 {
	u := math.Max(1, math.Ceil(float64(size)/4096))
	switch {
	case transactional:
		return 2 * u
	case consistent:
		return u
	}
	return u / 2
}
