// Command hello is the yardstick of the cold-start figure: the smallest Lambda
// function in Go, aws-lambda-go's runtime loop and nothing else. The bench
// builds it with the functions' own flags in the same run and starts it under
// the same emulator, so the ratio of init times is what our code adds.
package main

import "github.com/aws/aws-lambda-go/lambda"

func main() {
	lambda.Start(func() (string, error) { return "hello", nil })
}
